// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl: text for people and for programs. Sizes in binary units,
 * strings made safe for a terminal, JSON strings and values.
 */
#include <stdio.h>

#include "vmemctl_format.h"
#include "vmemctl_util.h"

/* A string from sysfs made safe for a terminal: printable ASCII only. */
char *sanitize(const char *s)
{
	char *p = xstrdup(s), *q;

	for (q = p; *q; q++)
		if (*q < 0x20 || *q > 0x7e)
			*q = '?';
	return p;
}

static const char * const units[] = {
	"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
};

/*
 * @v bytes in binary units into @buf: "512 B", "2 MiB", "1.50 GiB". With
 * @fixed, always two decimals above bytes ("2.00 GiB"), else only when the
 * value is not a whole number of the unit.
 */
char *human(char *buf, size_t len, unsigned long long v, bool fixed)
{
	unsigned long long div = 1, whole, hundredths;
	size_t u = 0;

	while (u + 1 < ARRAY_LEN(units) && v / div >= 1024) {
		div <<= 10;
		u++;
	}
	whole = v / div;
	if (!u || (!fixed && !(v % div))) {
		snprintf(buf, len, "%llu %s", whole, units[u]);
		return buf;
	}
	/* (v % div) / div in 1/1024 steps, then rounded to 1/100 */
	hundredths = ((v % div) / (div >> 10) * 100 + 512) / 1024;
	hundredths += whole * 100;
	if (hundredths >= 102400 && u + 1 < ARRAY_LEN(units)) {
		hundredths = 100;	/* 1023.995 and up: 1.00 of the next */
		u++;
	}
	snprintf(buf, len, "%llu.%02llu %s", hundredths / 100,
		 hundredths % 100, units[u]);
	return buf;
}

/* Length of the valid UTF-8 sequence at @s, 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* @s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putchar('"');
	while (*p) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				printf("\\u%04x", *p);
				break;
			}
			n = utf8_len(p);
			if (!n) {
				fputs("\\ufffd", stdout);
				break;
			}
			fwrite(p, 1, n, stdout);
			p += n - 1;
		}
		p++;
	}
	putchar('"');
}

void json_val(const struct val *v, enum vtype type)
{
	if (!v->ok)
		fputs("null", stdout);
	else if (type == T_U64)
		printf("%llu", v->u);
	else if (type == T_S64)
		printf("%lld", v->s);
	else
		json_str(v->str);
}
