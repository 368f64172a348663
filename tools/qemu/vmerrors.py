# SPDX-License-Identifier: GPL-2.0
"""The exceptions of the vmtest harness: every one is a VMError."""


class VMError(Exception):
    """Any failure of the guest or of the harness talking to it."""


class QemuExited(VMError):
    """QEMU went away (guest panic + -no-reboot, crash, bad arguments)."""


class CommandTimeout(VMError):
    """A guest command or a wait did not finish in time."""


class CommandFailed(VMError):
    """vm.sh() saw a non-zero exit code."""


class KernelComplaint(VMError):
    """check_console() found a kernel splat."""


class QMPError(VMError):
    """QMP answered with an error object."""

    def __init__(self, cmd, err):
        self.cmd = cmd
        self.err = err
        super().__init__("QMP %s failed: %s: %s" %
                         (cmd, err.get("class"), err.get("desc")))
