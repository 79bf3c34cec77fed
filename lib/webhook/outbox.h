/* Internal (core layer): the webhook outbox's sender. */
#ifndef LV_WEBHOOK_OUTBOX_H
#define LV_WEBHOOK_OUTBOX_H

#include "longvideo/engine.h"

struct lv_waiter;
/* Send due webhooks of the engine's store until `stop` is stopped (a webhook thread of the workers
 * runs this). */
void lv_outbox_run(lv_engine *e, struct lv_waiter *stop);

#endif
