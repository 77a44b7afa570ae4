// SPDX-License-Identifier: MIT
#include "dev/transport.h"

const struct nvr_dev_truth *nvr_transport_truth(const struct nvr_transport *t)
{
	return t ? t->truth : NULL;
}

void nvr_transport_destroy(struct nvr_transport *t)
{
	if (t)
		t->ops->destroy(t);
}
