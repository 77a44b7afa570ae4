// SPDX-License-Identifier: MIT
#include "transport.h"

void nvr_transport_destroy(struct nvr_transport *t)
{
	if (t)
		t->ops->destroy(t);
}
