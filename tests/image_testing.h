#pragma once
// Helpers shared by the image tests: encode synthetic pixels as JPEG
// (TurboJPEG) or PNG (libpng) in memory or on disk, and decode a JPEG the way
// libjpeg-turbo does by default, for "same bytes as libjpeg-turbo" checks.
// Everything throws std::runtime_error on failure. Tests that include this
// link TurboJPEG and libpng themselves.

#include <png.h>
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <cstdlib>
#include <algorithm>

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "tests/cli_testing.h"

namespace nds::image_testing {

namespace detail {

// Destroys a tjhandle at scope exit.
struct TjHandle {
  tjhandle h;
  explicit TjHandle(tjhandle handle) : h(handle) {
    if (!h) throw std::runtime_error("tjInit failed");
  }
  ~TjHandle() { tjDestroy(h); }
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
};

inline std::vector<uint8_t> compress(const uint8_t* pixels, int width, int height, int pixel_format,
                                     int subsamp, int quality, int flags) {
  TjHandle tj(tjInitCompress());
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (tjCompress2(tj.h, pixels, width, 0, height, pixel_format, &jpeg, &size, subsamp, quality,
                  flags) != 0) {
    std::string msg = tjGetErrorStr2(tj.h);
    tjFree(jpeg);
    throw std::runtime_error("tjCompress2: " + msg);
  }
  std::vector<uint8_t> out(jpeg, jpeg + size);
  tjFree(jpeg);
  return out;
}

// What libpng writes goes here; a plain struct, since libpng longjmps.
struct PngSink {
  std::vector<uint8_t>* out;
};

inline void png_sink_write(png_structp png, png_bytep data, png_size_t size) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->out->insert(sink->out->end(), data, data + size);
}

inline void png_sink_flush(png_structp) {}

// The png_write_* calls, in a function with no C++ objects of its own, so a
// libpng longjmp skips no destructors. Returns false on a libpng error.
inline bool png_write_all(png_structp png, png_infop info, PngSink* sink, int width, int height,
                          int bit_depth, int color_type, const png_color* palette, int palette_size,
                          bool interlaced, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, sink, png_sink_write, png_sink_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
               bit_depth, color_type, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, palette_size);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

// `data` holds rows of `row_bytes` bytes, already in PNG sample order
// (16-bit samples big-endian). png_write_image does the Adam7 passes itself.
inline std::vector<uint8_t> png_encode(const uint8_t* data, size_t row_bytes, int width, int height,
                                       int bit_depth, int color_type,
                                       const png_color* palette = nullptr, int palette_size = 0,
                                       bool interlaced = false) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) throw std::runtime_error("png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int y = 0; y < height; ++y)
    rows[static_cast<size_t>(y)] = const_cast<png_bytep>(data + static_cast<size_t>(y) * row_bytes);
  std::vector<uint8_t> out;
  PngSink sink{&out};
  bool ok = info && png_write_all(png, info, &sink, width, height, bit_depth, color_type, palette,
                                  palette_size, interlaced, rows.data());
  png_destroy_write_struct(&png, &info);
  if (!ok) throw std::runtime_error("libpng failed to encode");
  return out;
}

inline int png_color_type(int channels) {
  switch (channels) {
    case 1:
      return PNG_COLOR_TYPE_GRAY;
    case 2:
      return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3:
      return PNG_COLOR_TYPE_RGB;
    case 4:
      return PNG_COLOR_TYPE_RGB_ALPHA;
  }
  throw std::runtime_error("png: channels must be 1..4");
}

inline void check_size(size_t have, int width, int height, int channels) {
  if (width < 1 || height < 1 ||
      have !=
          static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(channels))
    throw std::runtime_error("pixel buffer does not match width*height*channels");
}

}  // namespace detail

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) throw std::runtime_error("cannot open '" + path + "' for writing");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    throw std::runtime_error("cannot write '" + path + "'");
  if (std::fclose(f.release()) != 0) throw std::runtime_error("cannot close '" + path + "'");
}

// Packed 8-bit pixels, `channels` 1 (gray: TJSAMP_GRAY, whatever `subsamp`
// says) or 3 (RGB).
inline std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& pixels, int width, int height,
                                        int channels, int quality = 90, bool progressive = false,
                                        int subsamp = TJSAMP_420) {
  if (channels != 1 && channels != 3) throw std::runtime_error("jpeg: channels must be 1 or 3");
  detail::check_size(pixels.size(), width, height, channels);
  return detail::compress(pixels.data(), width, height, channels == 1 ? TJPF_GRAY : TJPF_RGB,
                          channels == 1 ? TJSAMP_GRAY : subsamp, quality,
                          progressive ? TJFLAG_PROGRESSIVE : 0);
}

inline void write_jpeg(const std::string& path, const std::vector<uint8_t>& pixels, int width,
                       int height, int channels, int quality = 90, bool progressive = false,
                       int subsamp = TJSAMP_420) {
  write_bytes(path, encode_jpeg(pixels, width, height, channels, quality, progressive, subsamp));
}

// Packed CMYK (4 bytes a pixel). TurboJPEG stores the values as given (as
// YCCK, with an Adobe APP14 marker); Pillow reads such files as inverted
// CMYK ("CMYK;I"), so a reader that follows Pillow sees 255 - value.
inline std::vector<uint8_t> encode_cmyk_jpeg(const std::vector<uint8_t>& cmyk, int width,
                                             int height, int quality = 90) {
  detail::check_size(cmyk.size(), width, height, 4);
  return detail::compress(cmyk.data(), width, height, TJPF_CMYK, TJSAMP_444, quality, 0);
}

inline void write_cmyk_jpeg(const std::string& path, const std::vector<uint8_t>& cmyk, int width,
                            int height, int quality = 90) {
  write_bytes(path, encode_cmyk_jpeg(cmyk, width, height, quality));
}

// Packed 8-bit pixels; `channels` 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA).
// `interlaced`: Adam7.
inline std::vector<uint8_t> encode_png(const std::vector<uint8_t>& pixels, int width, int height,
                                       int channels, bool interlaced = false) {
  detail::check_size(pixels.size(), width, height, channels);
  return detail::png_encode(pixels.data(), static_cast<size_t>(width) * channels, width, height, 8,
                            detail::png_color_type(channels), nullptr, 0, interlaced);
}

// 16-bit samples (host order; written big-endian as PNG wants).
inline std::vector<uint8_t> encode_png16(const std::vector<uint16_t>& samples, int width,
                                         int height, int channels) {
  detail::check_size(samples.size(), width, height, channels);
  std::vector<uint8_t> be(samples.size() * 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    be[2 * i] = static_cast<uint8_t>(samples[i] >> 8);
    be[2 * i + 1] = static_cast<uint8_t>(samples[i] & 0xff);
  }
  return detail::png_encode(be.data(), static_cast<size_t>(width) * channels * 2, width, height, 16,
                            detail::png_color_type(channels));
}

// An 8-bit palette PNG: one index a pixel into `palette_rgb` (3 bytes an
// entry, at most 256 entries).
inline std::vector<uint8_t> encode_palette_png(const std::vector<uint8_t>& indices, int width,
                                               int height,
                                               const std::vector<uint8_t>& palette_rgb) {
  detail::check_size(indices.size(), width, height, 1);
  size_t entries = palette_rgb.size() / 3;
  if (entries < 1 || entries > 256 || palette_rgb.size() % 3 != 0)
    throw std::runtime_error("png: palette must have 1..256 RGB entries");
  std::vector<png_color> palette(entries);
  for (size_t i = 0; i < entries; ++i)
    palette[i] = png_color{palette_rgb[3 * i], palette_rgb[3 * i + 1], palette_rgb[3 * i + 2]};
  for (uint8_t index : indices)
    if (index >= entries) throw std::runtime_error("png: palette index out of range");
  return detail::png_encode(indices.data(), static_cast<size_t>(width), width, height, 8,
                            PNG_COLOR_TYPE_PALETTE, palette.data(), static_cast<int>(entries));
}

inline void write_png(const std::string& path, const std::vector<uint8_t>& pixels, int width,
                      int height, int channels) {
  write_bytes(path, encode_png(pixels, width, height, channels));
}

// libjpeg-turbo's own full-size decode (fresh handle, flags 0) to
// `pixel_format` (TJPF_RGB, TJPF_CMYK, ...). Warnings (e.g. extraneous bytes,
// premature end) are not errors here: the pixels are what libjpeg-turbo gives.
inline std::vector<uint8_t> reference_decode_jpeg(const std::vector<uint8_t>& bytes, int* width,
                                                  int* height, int pixel_format = TJPF_RGB) {
  detail::TjHandle tj(tjInitDecompress());
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  auto* src = const_cast<unsigned char*>(bytes.data());
  if (tjDecompressHeader3(tj.h, src, bytes.size(), &w, &h, &subsamp, &colorspace) != 0)
    throw std::runtime_error(std::string("tjDecompressHeader3: ") + tjGetErrorStr2(tj.h));
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * static_cast<size_t>(h) *
                              static_cast<size_t>(tjPixelSize[pixel_format]));
  if (tjDecompress2(tj.h, src, bytes.size(), pixels.data(), w, 0, h, pixel_format, 0) != 0 &&
      tjGetErrorCode(tj.h) != TJERR_WARNING)
    throw std::runtime_error(std::string("tjDecompress2: ") + tjGetErrorStr2(tj.h));
  if (width) *width = w;
  if (height) *height = h;
  return pixels;
}

// A smooth, photo-like RGB test image (gradients and a disc whose place and
// colors depend on `seed`): compresses like a photograph, not like noise.
inline std::vector<uint8_t> test_photo(int width, int height, int seed) {
  std::vector<uint8_t> p(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  const int cx = (seed * 37) % width, cy = (seed * 53) % height;
  const int r2 = (std::min(width, height) / 3) * (std::min(width, height) / 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* q = &p[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3];
      const bool disc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r2;
      q[0] = static_cast<uint8_t>(disc ? 40 + seed * 13 % 180 : x * 255 / width);
      q[1] = static_cast<uint8_t>(disc ? 200 - seed * 7 % 150 : y * 255 / height);
      q[2] = static_cast<uint8_t>((x + y + seed * 11) % 256);
    }
  return p;
}

// The scratch folders of tests/cli_testing.h, under the name the image tests use.
using ScratchFolder = cli_testing::ScratchDir;

inline void make_dirs(const std::string& path) {
  std::system(("mkdir -p '" + path + "'").c_str());
}

// DIR/train/<class>/<i>.JPEG and DIR/val/<class>/<i>.JPEG: photo-like JPEGs of
// 60-140 x 50-130 pixels, `train` and `val` per class.
inline void write_photo_folder(const std::string& root, const std::vector<std::string>& classes,
                               int train, int val) {
  int seed = 1;
  for (const char* split : {"train", "val"})
    for (const std::string& c : classes) {
      const std::string dir = root + "/" + split + "/" + c;
      make_dirs(dir);
      const int n = std::string(split) == "train" ? train : val;
      for (int i = 0; i < n; ++i, ++seed) {
        const int w = 60 + seed * 17 % 80, h = 50 + seed * 29 % 80;
        write_jpeg(dir + "/" + std::to_string(i) + ".JPEG", test_photo(w, h, seed), w, h, 3, 92);
      }
    }
}

}  // namespace nds::image_testing
