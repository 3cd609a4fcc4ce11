#pragma once
// Decoding only the part of a JPEG that a crop needs, through libjpeg-turbo's
// libjpeg API: rows above the part are skipped without inverse DCT
// (jpeg_skip_scanlines), rows below are never decoded, and only the columns'
// iMCUs are transformed (jpeg_crop_scanline). A random-sized crop covers 54%
// of the image on average, so this saves most of the work after entropy
// decoding. No LibTorch.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trainer/rect.h"

namespace nds::trainer {

// One per thread: keeps libjpeg's decompressor and row pointers.
class JpegRegionDecoder {
 public:
  JpegRegionDecoder();
  ~JpegRegionDecoder();
  JpegRegionDecoder(const JpegRegionDecoder&) = delete;
  JpegRegionDecoder& operator=(const JpegRegionDecoder&) = delete;

  // Decodes at 1/denom the rows and columns of the JPEG in `bytes` that cover
  // `want` (in scaled pixels, clipped to the image) into `out` as packed RGB.
  // Returns what was decoded: `want` widened to libjpeg's iMCU column
  // boundaries. Returns false, decoding nothing, for what it does not handle
  // (progressive and CMYK/YCCK files): the caller decodes those whole. Throws
  // ImageError for corrupt or truncated data.
  bool decode(const uint8_t* bytes, size_t size, int denom, const PixelRect& want,
              std::vector<uint8_t>& out, PixelRect& got);

  struct State;  // libjpeg's structs and the error hooks' state (jpeg_region.cc)

 private:
  State* state_;
  std::vector<uint8_t*> rows_;
};

}  // namespace nds::trainer
