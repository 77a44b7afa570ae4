/* SPDX-License-Identifier: MIT */
/*
 * libnvmerace's public API, every header of it: what cmd/ and bench/ may
 * use. They are compiled with -Ilib/include only, so nothing else of lib/
 * is in reach. One header per subsystem, each usable alone.
 */
#ifndef NVMERACE_H
#define NVMERACE_H

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/explore.h>
#include <nvmerace/hist.h>
#include <nvmerace/ledger.h>
#include <nvmerace/log.h>
#include <nvmerace/pci.h>
#include <nvmerace/policy.h>
#include <nvmerace/queue.h>
#include <nvmerace/run.h>
#include <nvmerace/scenario.h>
#include <nvmerace/sim.h>
#include <nvmerace/tcp.h>
#include <nvmerace/transport.h>
#include <nvmerace/util.h>
#include <nvmerace/vfio.h>
#include <nvmerace/wire.h>

#endif
