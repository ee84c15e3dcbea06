"""`ipctop sem`: create, set, operate on and remove System V semaphore sets."""

from __future__ import annotations

import argparse

from ipctop.cli.object_args import (
    add_key_arguments,
    add_rm_arguments,
    guarded,
    ids_or_key,
    key_from_args,
    print_created,
    remove_each,
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sem = subparsers.add_parser("sem", parents=[common], help="act on System V semaphore sets",
                                description="Create, set, operate on and remove semaphore sets.")
    actions = sem.add_subparsers(dest="sem_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", parents=[common], help="create a set (semget + SETALL) and print its id")
    add_key_arguments(create)
    create.add_argument("--values", required=True, metavar="V1,V2,...",
                        help="initial values, one per semaphore, each 0..32767")
    create.set_defaults(func=run_create)

    set_value = actions.add_parser("set", parents=[common], help="set one semaphore's value (SETVAL)")
    set_value.add_argument("id", metavar="ID")
    set_value.add_argument("index", metavar="INDEX", help="which semaphore, from 0")
    set_value.add_argument("value", metavar="VALUE", help="0..32767")
    set_value.set_defaults(func=run_set)

    op = actions.add_parser(
        "op", parents=[common], help="add to or take from one semaphore (semop)",
        description="Add DELTA to the semaphore; a negative DELTA waits until the value is large enough, "
        "0 waits until it is 0. Write a negative DELTA as -1 (or after --).",
    )
    op.add_argument("id", metavar="ID")
    op.add_argument("index", metavar="INDEX", help="which semaphore, from 0")
    op.add_argument("delta", metavar="DELTA", help="-32767..32767")
    op.add_argument("--nowait", action="store_true", help="fail with EAGAIN instead of waiting")
    op.set_defaults(func=run_op)

    rm = actions.add_parser("rm", parents=[common], help="remove sets (IPC_RMID); waiters wake with EIDRM")
    add_rm_arguments(rm)
    rm.set_defaults(func=run_rm)


@guarded("sem create", mutating=True)
def run_create(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    key = key_from_args(args)
    values = validators.parse_sem_values(args.values, field="--values")
    mode = validators.parse_mode(args.mode, field="--mode")
    print_created(operations.create_sem(key, values, mode, args.excl), args.json)
    return 0


@guarded("sem set", mutating=True)
def run_set(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    semid = validators.parse_id(args.id, "sem", field="ID")
    index = validators.parse_sem_index(args.index, validators.set_size(semid), field="INDEX")
    value = validators.parse_sem_value(args.value, field="VALUE")
    operations.sem_set(semid, index, value)
    return 0


@guarded("sem op", mutating=True)
def run_op(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    semid = validators.parse_id(args.id, "sem", field="ID")
    index = validators.parse_sem_index(args.index, validators.set_size(semid), field="INDEX")
    delta = validators.parse_sem_delta(args.delta, field="DELTA")
    operations.sem_op(semid, index, delta, nowait=args.nowait)
    return 0


@guarded("sem rm", mutating=True)
def run_rm(args: argparse.Namespace) -> int:
    return remove_each("sem", ids_or_key(args, "sem"))
