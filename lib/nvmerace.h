/* SPDX-License-Identifier: MIT */
/* libnvmerace: the one header the front end (cmd/) includes. */
#ifndef NVMERACE_H
#define NVMERACE_H

#include "ctrl.h"
#include "dma.h"
#include "journal.h"
#include "log.h"
#include "nvr_wire.h"
#include "queue.h"
#include "sim/sim.h"
#include "transport.h"
#include "util.h"

#endif
