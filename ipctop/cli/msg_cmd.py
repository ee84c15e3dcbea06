"""`ipctop msg`: create, send to, receive from and remove System V message queues."""

from __future__ import annotations

import argparse

from ipctop.cli.object_args import (
    add_create_action,
    add_object_command,
    add_rm_action,
    guarded,
    key_from_args,
    print_created,
    write_bytes,
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = add_object_command(subparsers, common, "msg", help="act on System V message queues",
                                 description="Create, send to, receive from and remove message queues.")
    add_create_action(actions, common, help="create a queue (msgget) and print its id", run=run_create)

    send = actions.add_parser("send", parents=[common], help="send a message (msgsnd)")
    send.add_argument("id", metavar="ID")
    send.add_argument("text", metavar="TEXT", help="the message (UTF-8), at most msgmax bytes")
    send.add_argument("--type", default="1", metavar="N", help="the message type, above 0 (default 1)")
    send.add_argument("--nowait", action="store_true", help="fail with EAGAIN instead of waiting when full")
    send.set_defaults(func=run_send)

    recv = actions.add_parser(
        "recv", parents=[common], help="receive a message (msgrcv) and print its text",
        description="Receive one message. --type 0 takes the first message, N > 0 the first of type N, "
        "N < 0 the first of the lowest type <= |N|.",
    )
    recv.add_argument("id", metavar="ID")
    recv.add_argument("--type", default="0", metavar="N", help="which message, as msgrcv(2) says (default 0)")
    recv.add_argument("--nowait", action="store_true", help="fail with ENOMSG instead of waiting")
    recv.add_argument("--json", action="store_true", help="print the type and text as JSON")
    recv.set_defaults(func=run_recv)

    add_rm_action(actions, common, "msg", help="remove queues (IPC_RMID) with their messages")


@guarded("msg create", mutating=True)
def run_create(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    key = key_from_args(args)
    mode = validators.parse_mode(args.mode, field="--mode")
    print_created(operations.create_msg(key, mode, args.excl), args.json)
    return 0


@guarded("msg send", mutating=True)
def run_send(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    msqid = validators.parse_id(args.id, "msg", field="ID")
    mtype = validators.parse_send_type(args.type, field="--type")
    data = validators.parse_message(args.text, field="TEXT")
    operations.send(msqid, mtype, data, nowait=args.nowait)
    return 0


@guarded("msg recv", mutating=True)  # it takes the message off the queue
def run_recv(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    msqid = validators.parse_id(args.id, "msg", field="ID")
    mtype = validators.parse_receive_type(args.type, field="--type")
    received = operations.receive(msqid, mtype, validators.current_limits().msgmax, nowait=args.nowait)
    if args.json:
        import json

        print(json.dumps({"type": received.mtype, "text": received.data.decode("utf-8", "replace")}))
    else:
        write_bytes(received.data + b"\n")
    return 0
