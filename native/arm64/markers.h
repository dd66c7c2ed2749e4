/* The marker protocol shared by the runners and the counting plugin (insn_count.c).
 *
 * A marker is a umask(2) call whose argument carries MARKER_MAGIC in bits 16-31 and the command
 * in bits 12-15. The kernel keeps only bits 0-8 (the permission mask), so a marker leaves the
 * process's umask as it was when bits 0-8 hold the current mask. umask never fails and is
 * otherwise called once at most by a runner, so a marker cannot be mistaken for real work. */
#pragma once

#define MARKER_SYSCALL_AARCH64 166 /* __NR_umask on aarch64 (asm-generic/unistd.h) */
#define MARKER_MAGIC 0x4D4Eu       /* "MN" */
#define MARKER_START 1u            /* counting starts after this call */
#define MARKER_STOP 2u             /* counting stops; the plugin writes the interval's count */
#define MARKER_ARG(command, mask) ((MARKER_MAGIC << 16) | ((command) << 12) | ((mask) & 0777u))
