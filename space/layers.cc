#include "space/layers.h"

#include "space/lowering.h"

namespace nds {

void lower_block(const Block& b, LayerSink& sink) {
  lower_block_to(b, sink);
}

void lower(const NetSpec& spec, LayerSink& sink) {
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const Block& b = spec.blocks[i];
    sink.begin_block(b, static_cast<int>(i));
    lower_block(b, sink);
    sink.end_block(b, static_cast<int>(i));
  }
}

}  // namespace nds
