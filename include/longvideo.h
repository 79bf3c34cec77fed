/*
 * liblongvideo — one sentence of prompt in, a finished film out.
 *
 * The only header a program needs.  See each module header for the calls:
 *   longvideo/common.h   version, memory, credit amounts
 *   longvideo/errors.h   status codes, last error
 *   longvideo/log.h      log callback and level
 *   longvideo/engine.h   configuration, store, providers
 *   longvideo/keys.h     API keys, credits, ledger check
 *   longvideo/plan.h     segment plan and estimate
 *   longvideo/task.h     tasks
 *   longvideo/worker.h   pipeline workers, webhook delivery
 *   longvideo/media.h    results: files and their URLs
 *   longvideo/compose.h  composition of clip files into a film, without an engine
 *   longvideo/provider.h provider calls: storyboard, moderation, images, video jobs, speech, music
 *   longvideo/sys/provider.h  plug-in provider types (included by provider.h)
 *   longvideo/sys/storage.h   plug-in storage types
 */
#ifndef LONGVIDEO_H
#define LONGVIDEO_H

#include "longvideo/common.h"
#include "longvideo/errors.h"
#include "longvideo/log.h"
#include "longvideo/engine.h"
#include "longvideo/keys.h"
#include "longvideo/plan.h"
#include "longvideo/task.h"
#include "longvideo/worker.h"
#include "longvideo/media.h"
#include "longvideo/compose.h"
#include "longvideo/provider.h"
#include "longvideo/sys/storage.h"

#endif
