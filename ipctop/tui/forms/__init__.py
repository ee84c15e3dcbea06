"""Modal forms for the actions of issue 4, standalone so that the app only pushes them.

Each form validates with ipctop.actions.validators, shows a one-sentence error
next to the field, and dismisses with a typed request from ipctop.actions.requests
(or None when cancelled); ConfirmScreen dismisses with a bool.  None of them
calls the kernel: carry the request out with ipctop.actions.operations.perform.
"""

from ipctop.tui.forms.confirm import ConfirmScreen
from ipctop.tui.forms.kill_form import KillForm
from ipctop.tui.forms.msg_forms import MsgCreateForm, MsgReceiveForm, MsgSendForm
from ipctop.tui.forms.sem_forms import SemCreateForm, SemOpForm, SemSetForm
from ipctop.tui.forms.shm_forms import AttachForm, ChmodChownForm, ShmCreateForm, WriteForm

__all__ = [
    "AttachForm",
    "ChmodChownForm",
    "ConfirmScreen",
    "KillForm",
    "MsgCreateForm",
    "MsgReceiveForm",
    "MsgSendForm",
    "SemCreateForm",
    "SemOpForm",
    "SemSetForm",
    "ShmCreateForm",
    "WriteForm",
]
