#pragma once
// Image files to RGB pixels, without LibTorch: JPEG through libjpeg-turbo
// (baseline, progressive, grayscale, CMYK/YCCK; downscaled in the DCT domain
// by 1/2, 1/4 or 1/8 on request), PNG through libpng. The format comes from
// the bytes, never from the file name (ImageNet has PNG bytes in .JPEG files).
// Every image becomes 3-channel RGB, as torchvision's default loader
// (PIL's convert("RGB")) makes it: gray is replicated, alpha is dropped,
// palettes are expanded, 16-bit samples keep their high byte.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nds::trainer {

// An image that cannot be read or decoded: truncated, corrupt, not an image,
// too large. what() says why; callers that know the file add its path.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ImageFormat { kUnknown, kJpeg, kPng };

// From the first bytes (JPEG: FF D8 FF; PNG: its 8-byte signature).
ImageFormat sniff_image_format(const uint8_t* bytes, size_t size);

// Largest side and pixel count accepted: a hostile header cannot make a
// decoder allocate gigabytes.
constexpr int kMaxImageSide = 32768;
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;  // full-size pixels
  int height = 0;
};

// The side libjpeg-turbo gives at 1/denom scale: ceil(side / denom).
inline int scaled_side(int side, int denom) {
  return (side + denom - 1) / denom;
}

// One per thread: owns a TurboJPEG handle and scratch buffers that keep their
// capacity, so decoding image after image allocates nothing in steady state.
class ImageDecoder {
 public:
  ImageDecoder();
  ~ImageDecoder();
  ImageDecoder(const ImageDecoder&) = delete;
  ImageDecoder& operator=(const ImageDecoder&) = delete;

  // Reads the header only. Throws ImageError for unknown formats, corrupt
  // headers and sizes beyond the limits above.
  ImageInfo info(const uint8_t* bytes, size_t size);

  struct Decoded {
    int width = 0;  // of the decoded pixels
    int height = 0;
    int denom = 1;  // the scale actually used: 1/denom of full size
  };
  // Decodes to packed RGB (3 bytes a pixel, rows without padding) in `out`,
  // resized as needed (its capacity is kept between calls). `denom` is 1, 2,
  // 4 or 8: JPEGs decode at ceil(side / denom) through libjpeg-turbo's DCT
  // scaling; PNGs always decode at full size (denom 1 in the result). A
  // truncated or corrupt image throws ImageError (libjpeg-turbo's "premature
  // end" warnings included; harmless warnings such as extraneous bytes
  // before a marker are not errors, as with PIL).
  Decoded decode(const uint8_t* bytes, size_t size, int denom, std::vector<uint8_t>& out);

 private:
  void* tj_ = nullptr;         // tjhandle
  std::vector<uint8_t> cmyk_;  // CMYK pixels before their conversion to RGB
};

// Reads a whole file into `out` (capacity kept). Throws ImageError naming
// the path when it cannot be opened or read.
void read_file_bytes(const std::string& path, std::vector<uint8_t>& out);

}  // namespace nds::trainer
