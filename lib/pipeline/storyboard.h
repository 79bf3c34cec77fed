/* Internal: the storyboard schema, validation and speaking-time estimate live in the model layer
 * (model/storyboard.h); this header forwards there for the pipeline's files. */
#ifndef LV_PIPELINE_STORYBOARD_H
#define LV_PIPELINE_STORYBOARD_H
#include "model/storyboard.h"
#endif
