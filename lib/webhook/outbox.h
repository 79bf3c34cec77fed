/* Internal (core layer): the webhook outbox's sender. */
#ifndef LV_WEBHOOK_OUTBOX_H
#define LV_WEBHOOK_OUTBOX_H

#include "longvideo/engine.h"

/* Send due webhooks of the engine's store until *stopping becomes non-zero (a webhook thread of the
 * workers runs this). */
void lv_outbox_run(lv_engine *e, const volatile int *stopping);

#endif
