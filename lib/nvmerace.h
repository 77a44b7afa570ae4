/* SPDX-License-Identifier: MIT */
/* libnvmerace: the one header the front end (cmd/) includes. */
#ifndef NVMERACE_H
#define NVMERACE_H

#include "base/clock.h"
#include "host/ctrl.h"
#include "host/dbbuf.h"
#include "host/dma.h"
#include "detect/hist.h"
#include "host/irq.h"
#include "dev/journal.h"
#include "detect/ledger.h"
#include "base/log.h"
#include "base/nvr_wire.h"
#include "dev/pci.h"
#include "host/queue.h"
#include "dev/sim/sim.h"
#include "dev/transport.h"
#include "base/util.h"
#include "dev/vfio.h"

#endif
