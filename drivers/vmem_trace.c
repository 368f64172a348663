// SPDX-License-Identifier: GPL-2.0
/*
 * The tracepoints' one instance (include/vmem_trace.h).
 */
#define CREATE_TRACE_POINTS
#include "../include/vmem_trace.h"
