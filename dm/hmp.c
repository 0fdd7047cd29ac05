/* HMP, the human monitor: one command per line, answers in plain text, in the
 * words QEMU's monitor uses so that people and scripts feel at home. */
#include "dm/monitor.h"

#include <stdlib.h>
#include <string.h>


#define HMP_PROMPT "(vireo) "

void hmp_start(struct monitor *m)
{
    m->line_len = 0;
    m->line_overflow = false;
    monitor_printf(m, "Vireo monitor - type 'help' for more information\r\n" HMP_PROMPT);
}

/* Output of the program's `info` printer, with \n turned into \r\n for raw
 * terminals.  Returns -1 if the program does not know the item. */
static int print_info(struct monitor *m, const char *item)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return 0;
    int r = m->hub->ops->info(m->hub->opaque, item, f);
    fclose(f);
    for (char *p = text, *nl; r >= 0 && p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) {
            monitor_puts(m, p, strlen(p));
            break;
        }
        monitor_puts(m, p, nl - p);
        monitor_puts(m, "\r\n", 2);
    }
    free(text);
    return r;
}

static void hmp_help(struct monitor *m)
{
    monitor_printf(m,
        "cont|c -- resume emulation\r\n"
        "help|? -- show this help\r\n"
        "info status -- show the VM status (running|paused|shutdown)\r\n"
        "info registers -- show the CPU registers\r\n"
        "info qtree -- show the device tree\r\n"
        "info mtree -- show the memory and I/O region trees\r\n"
        "quit|q -- quit the emulator\r\n"
        "stop|s -- stop emulation\r\n"
        "system_reset -- reset the system\r\n");
}

void hmp_execute(struct monitor *m, const char *line)
{
    struct monitor_hub *hub = m->hub;
    char cmd[32] = "", arg[32] = "", extra[2] = "";
    int n = sscanf(line, " %31s %31s %1s", cmd, arg, extra);
    if (n <= 0)
        return;
    if (n == 3)
        goto usage;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        hmp_help(m);
    } else if (!strcmp(cmd, "info")) {
        if (!strcmp(arg, "status")) {
            enum vm_run_state s = hub->ops->state(hub->opaque);
            monitor_printf(m, "VM status: %s\r\n", vm_run_state_name(s));
        } else if (!arg[0] || print_info(m, arg) < 0) {
            monitor_printf(m, "info: unknown item '%s' (status, registers, qtree, "
                           "mtree)\r\n", arg);
        }
    } else if (n != 1) {
        goto usage;
    } else if (!strcmp(cmd, "stop") || !strcmp(cmd, "s")) {
        if (hub->ops->stop(hub->opaque) < 0)
            monitor_printf(m, "stop: not possible now\r\n");
    } else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
        if (hub->ops->cont(hub->opaque) < 0)
            monitor_printf(m, "cont: not possible in state %s\r\n",
                           vm_run_state_name(hub->ops->state(hub->opaque)));
    } else if (!strcmp(cmd, "system_reset")) {
        if (hub->ops->reset(hub->opaque) < 0)
            monitor_printf(m, "system_reset: not possible now\r\n");
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        hub->ops->quit(hub->opaque);
    } else {
        monitor_printf(m, "unknown command: '%s' (try 'help')\r\n", cmd);
    }
    return;
usage:
    monitor_printf(m, "%s: unexpected argument (try 'help')\r\n", cmd);
}

/* Line editing kept to what a raw terminal needs: backspace, and ignoring
 * escape sequences' effect on the line is left to the user. */
void hmp_input(struct monitor *m, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' || m->line_len || m->line_overflow) {
                monitor_puts(m, "\r\n", 2);
                m->line[m->line_len] = 0;
                if (m->line_overflow)
                    monitor_printf(m, "line too long (at most %d characters)\r\n",
                                   HMP_LINE_MAX - 1);
                else
                    hmp_execute(m, m->line);
                m->line_len = 0;
                m->line_overflow = false;
                monitor_puts(m, HMP_PROMPT, strlen(HMP_PROMPT));
            }
        } else if (c == 0x7f || c == 0x08) {
            if (m->line_len) {
                m->line_len--;
                monitor_puts(m, "\b \b", 3);
            }
        } else if (c >= 0x20) {
            if (m->line_len + 1 < HMP_LINE_MAX) {
                m->line[m->line_len++] = c;
                monitor_puts(m, (const char *)&c, 1);     /* echo: the terminal is raw */
            } else {
                m->line_overflow = true;
            }
        }
    }
}
