// Image bytes (JPEG, PNG or anything) through the image-folder loader's
// decoders: the header, then the whole image at a DCT scale and, for a
// JPEG, a crop's region, each with the decoded sizes the loader relies on.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "trainer/image_codec.h"
#include "trainer/jpeg_region.h"

namespace {

using nds::fuzz::check;
using nds::trainer::ImageInfo;

// Headers up to kMaxImagePixels are decoded by design; above this the
// fuzzer only reads the header, since decoding a huge gray image from a
// truncated file is slow and finds nothing new.
constexpr int64_t kMaxDecodedPixels = int64_t{1} << 22;

// One of each per thread in the loader, reused image after image.
nds::trainer::ImageDecoder& whole_decoder() {
  static nds::trainer::ImageDecoder d;
  return d;
}

void decode_whole(const uint8_t* data, size_t size, const ImageInfo& info, int denom) {
  static std::vector<uint8_t> rgb;
  const auto out = whole_decoder().decode(data, size, denom, rgb);
  check(rgb.size() == size_t(out.width) * size_t(out.height) * 3, "decoded RGB size");
  if (info.format == nds::trainer::ImageFormat::kJpeg)
    check(out.width == nds::trainer::scaled_side(info.width, denom) &&
              out.height == nds::trainer::scaled_side(info.height, denom),
          "a JPEG decodes at ceil(side / denom)");
}

// The middle half, as a random-sized crop might ask for it.
void decode_region(const uint8_t* data, size_t size, const ImageInfo& info, int denom) {
  static nds::trainer::JpegRegionDecoder region;
  static std::vector<uint8_t> rgb;
  const int w = nds::trainer::scaled_side(info.width, denom);
  const int h = nds::trainer::scaled_side(info.height, denom);
  nds::trainer::PixelRect got;
  if (!region.decode(data, size, denom, {w / 4, h / 4, w / 2 + 1, h / 2 + 1}, rgb, got)) return;
  check(got.x >= 0 && got.y >= 0 && got.width >= 1 && got.height >= 1 && got.x + got.width <= w &&
            got.y + got.height <= h,
        "a region lies inside the scaled image");
  check(rgb.size() == size_t(got.width) * size_t(got.height) * 3, "region RGB size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ImageInfo info;
  nds::fuzz::run_rejecting([&] { info = whole_decoder().info(data, size); });
  if (info.width < 1 || int64_t{info.width} * info.height > kMaxDecodedPixels) return 0;
  const int denom = 1 << (size % 4);  // 1, 2, 4 or 8, varied without spending input bytes
  nds::fuzz::run_rejecting([&] { decode_whole(data, size, info, denom); });
  if (info.format == nds::trainer::ImageFormat::kJpeg)
    nds::fuzz::run_rejecting([&] { decode_region(data, size, info, denom); });
  return 0;
}
