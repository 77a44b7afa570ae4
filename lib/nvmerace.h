/* SPDX-License-Identifier: MIT */
/* libnvmerace: the one header the front end (cmd/) includes. */
#ifndef NVMERACE_H
#define NVMERACE_H

#include "clock.h"
#include "ctrl.h"
#include "dbbuf.h"
#include "dma.h"
#include "hist.h"
#include "irq.h"
#include "journal.h"
#include "ledger.h"
#include "log.h"
#include "nvr_wire.h"
#include "pci.h"
#include "queue.h"
#include "sim/sim.h"
#include "transport.h"
#include "util.h"
#include "vfio.h"

#endif
