/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: the bottom layer. Fatal errors and allocation that cannot fail
 * (vmemctl_util.c); every other file may use it, it uses none of them.
 */
#ifndef _VMEMCTL_UTIL_H
#define _VMEMCTL_UTIL_H

#include <stddef.h>

#define ARRAY_LEN(a)	(sizeof(a) / sizeof(*(a)))

/* The kernel's spellings, for checkpatch and for readers of both. */
#ifndef __printf
#define __printf(a, b)	__attribute__((__format__(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn	__attribute__((__noreturn__))
#endif

__noreturn __printf(2, 3) void die(int code, const char *fmt, ...);
void *xmalloc(size_t n);
char *xstrdup(const char *s);

#endif /* _VMEMCTL_UTIL_H */
