/* A qemu TCG plugin: aarch64 guest instructions executed between pairs of marker syscalls.
 *
 * Usage: qemu-aarch64 -plugin insn_count.so,out=FILE ... ; each MARKER_STOP appends one line,
 * the number of guest instructions executed since the last MARKER_START (markers.h).
 *
 * Every guest instruction adds 1 to one counter as it executes (an inline add compiled into the
 * translated code: no callback). Counting per instruction rather than per translation block
 * stays exact when a block is left early. The counter is shared by all guest threads: runners
 * count with one thread.
 *
 * Debian 12 ships qemu-user with plugin support but no plugin header, so the entry points used
 * here are declared by hand from qemu's documented plugin API (docs/devel/tcg-plugins.rst,
 * API version 1, qemu 4.2 to 8.x); qemu checks qemu_plugin_version when it loads the file. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "markers.h"

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*syscall_cb)(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2,
                           uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, syscall_cb cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed; /* guest instructions so far, all threads */
static uint64_t started;  /* `executed` at the last MARKER_START */
static FILE *out;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++)
        qemu_plugin_register_vcpu_insn_exec_inline(qemu_plugin_tb_get_insn(tb, i), QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &executed, 1);
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
    (void)id; (void)vcpu; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    if (num != MARKER_SYSCALL_AARCH64 || (a1 >> 16) != MARKER_MAGIC)
        return;
    if (((a1 >> 12) & 0xF) == MARKER_START) {
        started = executed;
    } else if (((a1 >> 12) & 0xF) == MARKER_STOP) {
        fprintf(out, "%" PRIu64 "\n", executed - started);
        fflush(out); /* a crash later in the run keeps the counts made so far */
    }
}

static void on_exit_(qemu_plugin_id_t id, void *userdata) {
    (void)id; (void)userdata;
    fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0)
            out = fopen(argv[i] + 4, "w");
    if (out == NULL) {
        fprintf(stderr, "insn_count: give a writable out=FILE argument (-plugin insn_count.so,out=FILE)\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, on_exit_, NULL);
    return 0;
}
