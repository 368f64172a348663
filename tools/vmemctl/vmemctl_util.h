/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: the bottom layer. Fatal errors and allocation that cannot fail
 * (vmemctl_util.c); every other file may use it, it uses none of them.
 */
#ifndef _VMEMCTL_UTIL_H
#define _VMEMCTL_UTIL_H

#include <stddef.h>

#define ARRAY_LEN(a)	(sizeof(a) / sizeof(*(a)))

void die(int code, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void *xmalloc(size_t n);
char *xstrdup(const char *s);

#endif /* _VMEMCTL_UTIL_H */
