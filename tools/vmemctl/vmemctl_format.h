/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: text for people and for programs (vmemctl_format.c): sizes,
 * terminal-safe text, JSON. Uses vmemctl_sysfs.h (struct val) and
 * vmemctl_util.h.
 */
#ifndef _VMEMCTL_FORMAT_H
#define _VMEMCTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "vmemctl_sysfs.h"

char *sanitize(const char *s);
char *human(char *buf, size_t len, unsigned long long v, bool fixed);
void json_str(const char *s);
void json_val(const struct val *v, enum vtype type);

#endif /* _VMEMCTL_FORMAT_H */
