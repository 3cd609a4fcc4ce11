#pragma once
// The training options that nds train and nds sweep (its recipe) share, and
// their reading into the trainer's structs. Part of libnds_torch.so.

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>

#include "trainer/data.h"
#include "trainer/train.h"

namespace nds::cli {

// Adds --epochs, --subset, --val, --test-subset, --batch-size, --lr, --wd,
// --momentum, --no-nesterov, --no-wd-bn-bias, --warmup, --label-smoothing,
// --precise-bn, --no-augment, --crop-padding, --no-zero-init, --layout and
// --synthetic-size. --data, --stem and --steps stay with each command: their
// help differs.
void add_training_options(boost::program_options::options_description& opts);

// The int64 option `key`, which must be in [1, max]; 0 when absent. Counts are
// read as int64 so that a huge value is an error, not a wrap.
int64_t positive_option(const boost::program_options::variables_map& vm, const char* key,
                        int64_t max = INT32_MAX);

// Bytes from "512M", "8G", "1.5T", "4096" (K/M/G/T: powers of 1024). Throws
// std::invalid_argument naming `option` and the text otherwise.
int64_t parse_size(const std::string& text, const char* option);

// --loader-threads (nds train, nds data): 0 when absent (the cores available).
int loader_threads_option(const boost::program_options::variables_map& vm);

// Sets data's subset, val, test_subset, crop_padding, (for --data synthetic)
// synthetic_train/test and (for image folders) cache_bytes and
// skip_bad_images from the options given; leaves the rest alone (so a stored
// recipe's values stay where no option replaces them).
void read_data_options(const boost::program_options::variables_map& vm,
                       const trainer::DataSource& source, trainer::DataOptions& data);

// Sets cfg's recipe fields from the options given (--steps included);
// leaves the others, threads, seed and device alone and does not validate.
void read_train_config(const boost::program_options::variables_map& vm,
                       trainer::TrainConfig& cfg);

}  // namespace nds::cli
