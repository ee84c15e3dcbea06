"""`ipctop sem`: create, set, operate on and remove System V semaphore sets."""

from __future__ import annotations

import argparse

from ipctop.cli.object_args import (
    add_create_action,
    add_object_command,
    add_rm_action,
    guarded,
    key_from_args,
    print_created,
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = add_object_command(subparsers, common, "sem", help="act on System V semaphore sets",
                                 description="Create, set, operate on and remove semaphore sets.")
    create = add_create_action(actions, common, help="create a set (semget + SETALL) and print its id",
                               run=run_create)
    create.add_argument("--values", required=True, metavar="V1,V2,...",
                        help="initial values, one per semaphore, each 0..32767")

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

    add_rm_action(actions, common, "sem", help="remove sets (IPC_RMID); waiters wake with EIDRM")


@guarded("sem create", mutating=True)
def run_create(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    key = key_from_args(args)
    values = validators.parse_sem_values(args.values, field="--values")
    mode = validators.parse_mode(args.mode, field="--mode")
    print_created(operations.create_sem(key, values, mode, args.excl), args.json)
    return 0


def _semaphore(args: argparse.Namespace) -> tuple[int, int]:
    """(semid, index) of ID INDEX: a set that exists, and an index within it."""
    from ipctop.actions import validators

    semid = validators.parse_id(args.id, "sem", field="ID")
    return semid, validators.parse_sem_index(args.index, validators.set_size(semid), field="INDEX")


@guarded("sem set", mutating=True)
def run_set(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    semid, index = _semaphore(args)
    value = validators.parse_sem_value(args.value, field="VALUE")
    operations.sem_set(semid, index, value)
    return 0


@guarded("sem op", mutating=True)
def run_op(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    semid, index = _semaphore(args)
    delta = validators.parse_sem_delta(args.delta, field="DELTA")
    operations.sem_op(semid, index, delta, nowait=args.nowait)
    return 0
