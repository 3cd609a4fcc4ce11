// ImageDecoder: JPEG through libjpeg-turbo (full size byte-identical to its
// default decode; DCT-scaled at 1/2, 1/4, 1/8), CMYK as Pillow converts it,
// PNG through libpng (exact pixels after PIL-style conversion to RGB), and the
// errors for truncated, corrupt, oversized and non-image input.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/image_testing.h"
#include "trainer/image_codec.h"

namespace nds::trainer {
namespace {

namespace it = nds::image_testing;

constexpr int kWidth = 97;  // odd sides: partial MCUs and partial scaled blocks
constexpr int kHeight = 61;

// Smooth gradients plus two soft-edged shapes (a disc and a bar), so JPEG
// loss and DCT scaling stay small and predictable.
std::vector<uint8_t> synthetic_rgb(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double r = 40 + 170.0 * x / (width - 1);
      double g = 30 + 180.0 * y / (height - 1);
      double b = 128 + 60 * std::sin(x * 0.11) * std::cos(y * 0.07);
      double d = std::hypot(x - width * 0.35, y - height * 0.5) - height * 0.25;
      double disc = std::clamp(0.5 - d / 4, 0.0, 1.0);  // ~4-pixel soft edge
      double bar = std::clamp(1.0 - std::abs(x - width * 0.75) / 6, 0.0, 1.0);
      r = r * (1 - disc) + 230 * disc;
      g = g * (1 - bar) + 20 * bar;
      b = b * (1 - disc) + 40 * disc;
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(std::lround(r));
      p[1] = static_cast<uint8_t>(std::lround(g));
      p[2] = static_cast<uint8_t>(std::lround(b));
    }
  }
  return rgb;
}

std::vector<uint8_t> to_gray(const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> gray(rgb.size() / 3);
  for (size_t i = 0; i < gray.size(); ++i)
    gray[i] = static_cast<uint8_t>(
        (rgb[3 * i] * 299 + rgb[3 * i + 1] * 587 + rgb[3 * i + 2] * 114 + 500) / 1000);
  return gray;
}

std::vector<uint8_t> replicate_gray(const std::vector<uint8_t>& gray) {
  std::vector<uint8_t> rgb(gray.size() * 3);
  for (size_t i = 0; i < gray.size(); ++i) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
  return rgb;
}

// A synthetic CMYK image: ink values spread over the whole range.
std::vector<uint8_t> synthetic_cmyk(int width, int height) {
  std::vector<uint8_t> rgb = synthetic_rgb(width, height);
  std::vector<uint8_t> cmyk(static_cast<size_t>(width) * height * 4);
  for (size_t i = 0; i < cmyk.size() / 4; ++i) {
    cmyk[4 * i] = rgb[3 * i];
    cmyk[4 * i + 1] = rgb[3 * i + 1];
    cmyk[4 * i + 2] = rgb[3 * i + 2];
    cmyk[4 * i + 3] = static_cast<uint8_t>(255 - rgb[3 * i + 1] / 2);
  }
  return cmyk;
}

// Pillow's view of the CMYK values that libjpeg-turbo decodes: inverted
// ("CMYK;I"), then Convert.c's cmyk2rgb: nk = 255 - K,
// R = nk - round(C * nk / 255) (with Pillow's MULDIV255 rounding), etc.
std::vector<uint8_t> pillow_cmyk_to_rgb(const std::vector<uint8_t>& decoded_cmyk) {
  auto muldiv255 = [](int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  std::vector<uint8_t> rgb(decoded_cmyk.size() / 4 * 3);
  for (size_t i = 0; i < decoded_cmyk.size() / 4; ++i) {
    int k = 255 - decoded_cmyk[4 * i + 3];
    int nk = 255 - k;
    for (int c = 0; c < 3; ++c) {
      int ink = 255 - decoded_cmyk[4 * i + c];
      rgb[3 * i + c] = static_cast<uint8_t>(std::clamp(nk - muldiv255(ink, nk), 0, 255));
    }
  }
  return rgb;
}

// Mean of each denom x denom block of packed RGB (partial blocks at the right
// and bottom edges average what they have), at ceil(side / denom).
std::vector<uint8_t> box_average(const std::vector<uint8_t>& rgb, int width, int height,
                                 int denom) {
  int sw = scaled_side(width, denom), sh = scaled_side(height, denom);
  std::vector<uint8_t> out(static_cast<size_t>(sw) * sh * 3);
  for (int by = 0; by < sh; ++by) {
    for (int bx = 0; bx < sw; ++bx) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        int n = 0;
        for (int y = by * denom; y < std::min(height, (by + 1) * denom); ++y)
          for (int x = bx * denom; x < std::min(width, (bx + 1) * denom); ++x, ++n)
            sum += rgb[(static_cast<size_t>(y) * width + x) * 3 + c];
        out[(static_cast<size_t>(by) * sw + bx) * 3 + c] =
            static_cast<uint8_t>(std::lround(sum / n));
      }
    }
  }
  return out;
}

struct Diff {
  double mean = 0;
  int max = 0;
};

Diff diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  Diff d;
  EXPECT_EQ(a.size(), b.size());
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int e = std::abs(int{a[i]} - int{b[i]});
    d.mean += e;
    d.max = std::max(d.max, e);
  }
  if (n) d.mean /= static_cast<double>(n);
  return d;
}

// Scaled decodes against a box-averaged full-size decode. libjpeg-turbo's
// DCT scaling is not a box filter (a reduced IDCT per block, each block
// rounded, chroma upsampled at the reduced size), so pixels differ a little.
// Tolerances, with what this image measured (mean / max abs error):
//  - 4:4:4, 4:2:0, gray, CMYK: mean <= 3, max <= 24 (measured <= 0.96 / 14).
//  - 4:2:2 and 4:4:0: libjpeg-turbo has only square scaled IDCTs, so their
//    chroma cannot be scaled up by the IDCT as 4:2:0's is; at 1/8 each chroma
//    sample is replicated over two output pixels. On this image's steep
//    chroma gradients: mean <= 10, max <= 64 (measured <= 7.97 / 46).
struct ScaledTolerance {
  double mean;
  int max;
};
constexpr ScaledTolerance kScaledTolerance{3.0, 24};
constexpr ScaledTolerance kScaledTolerance422{10.0, 64};

void expect_scaled_decodes_close(ImageDecoder& decoder, const std::vector<uint8_t>& bytes,
                                 const std::vector<uint8_t>& full, int width, int height,
                                 ScaledTolerance tolerance) {
  std::vector<uint8_t> out;
  for (int denom : {2, 4, 8}) {
    SCOPED_TRACE("denom " + std::to_string(denom));
    ImageDecoder::Decoded d = decoder.decode(bytes.data(), bytes.size(), denom, out);
    EXPECT_EQ(d.denom, denom);
    EXPECT_EQ(d.width, (width + denom - 1) / denom);
    EXPECT_EQ(d.height, (height + denom - 1) / denom);
    ASSERT_EQ(out.size(), static_cast<size_t>(d.width) * d.height * 3);
    Diff e = diff(out, box_average(full, width, height, denom));
    EXPECT_LE(e.mean, tolerance.mean);
    EXPECT_LE(e.max, tolerance.max);
  }
}

// A fresh directory under the test temp dir, removed with its files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "nds_codec_XXXXXX";
    if (!mkdtemp(tmpl.data())) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~ScratchDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(path_.c_str());
  }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// ------------------------------------------------------------------ JPEG

struct JpegCase {
  const char* name;
  int channels;
  bool progressive;
  int subsamp;
  ScaledTolerance tolerance = kScaledTolerance;
};

class JpegDecodeTest : public ::testing::TestWithParam<JpegCase> {};

TEST_P(JpegDecodeTest, FullSizeMatchesLibjpegTurboAndScaledIsClose) {
  const JpegCase& c = GetParam();
  std::vector<uint8_t> rgb = synthetic_rgb(kWidth, kHeight);
  std::vector<uint8_t> src = c.channels == 1 ? to_gray(rgb) : rgb;
  std::vector<uint8_t> bytes =
      it::encode_jpeg(src, kWidth, kHeight, c.channels, 90, c.progressive, c.subsamp);
  ImageDecoder decoder;

  ImageInfo info = decoder.info(bytes.data(), bytes.size());
  EXPECT_EQ(info.format, ImageFormat::kJpeg);
  EXPECT_EQ(info.width, kWidth);
  EXPECT_EQ(info.height, kHeight);

  std::vector<uint8_t> out;
  ImageDecoder::Decoded d = decoder.decode(bytes.data(), bytes.size(), 1, out);
  EXPECT_EQ(d.width, kWidth);
  EXPECT_EQ(d.height, kHeight);
  EXPECT_EQ(d.denom, 1);
  int rw = 0, rh = 0;
  std::vector<uint8_t> reference = it::reference_decode_jpeg(bytes, &rw, &rh);
  EXPECT_EQ(out, reference);  // byte for byte (gray: replicated by libjpeg-turbo)
  // Sanity: the decode is near the source (JPEG quality 90).
  EXPECT_LE(diff(out, c.channels == 1 ? replicate_gray(src) : src).mean, 3.0);

  expect_scaled_decodes_close(decoder, bytes, out, kWidth, kHeight, c.tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, JpegDecodeTest,
    ::testing::Values(JpegCase{"baseline420", 3, false, TJSAMP_420},
                      JpegCase{"baseline422", 3, false, TJSAMP_422, kScaledTolerance422},
                      JpegCase{"baseline440", 3, false, TJSAMP_440, kScaledTolerance422},
                      JpegCase{"baseline444", 3, false, TJSAMP_444},
                      JpegCase{"progressive420", 3, true, TJSAMP_420},
                      JpegCase{"gray", 1, false, TJSAMP_GRAY},
                      JpegCase{"grayProgressive", 1, true, TJSAMP_GRAY}),
    [](const ::testing::TestParamInfo<JpegCase>& p) { return std::string(p.param.name); });

// CMYK (stored by TurboJPEG as YCCK with an Adobe marker) becomes RGB
// exactly as Pillow's convert("RGB") makes it from libjpeg-turbo's CMYK
// output. Against the formula applied to the source CMYK, the JPEG loss
// (quality 95, 4:4:4) stays within mean abs error 2 and max 16 (measured
// 0.74 / 9).
TEST(ImageCodecJpeg, CmykConvertsAsPillow) {
  std::vector<uint8_t> cmyk = synthetic_cmyk(kWidth, kHeight);
  std::vector<uint8_t> bytes = it::encode_cmyk_jpeg(cmyk, kWidth, kHeight, 95);
  ImageDecoder decoder;
  std::vector<uint8_t> out;
  ImageDecoder::Decoded d = decoder.decode(bytes.data(), bytes.size(), 1, out);
  ASSERT_EQ(d.width, kWidth);
  ASSERT_EQ(d.height, kHeight);
  ASSERT_EQ(out.size(), static_cast<size_t>(kWidth) * kHeight * 3);

  int rw = 0, rh = 0;
  std::vector<uint8_t> decoded_cmyk = it::reference_decode_jpeg(bytes, &rw, &rh, TJPF_CMYK);
  EXPECT_EQ(out, pillow_cmyk_to_rgb(decoded_cmyk));
  Diff e = diff(out, pillow_cmyk_to_rgb(cmyk));
  EXPECT_LE(e.mean, 2.0);
  EXPECT_LE(e.max, 16);

  expect_scaled_decodes_close(decoder, bytes, out, kWidth, kHeight, kScaledTolerance);
}

// "Corrupt JPEG data: N extraneous bytes before marker 0xd9" is a warning
// that leaves the image whole: accepted, as PIL does.
TEST(ImageCodecJpeg, ExtraneousBytesBeforeMarkerAreAccepted) {
  std::vector<uint8_t> bytes = it::encode_jpeg(synthetic_rgb(kWidth, kHeight), kWidth, kHeight, 3);
  ASSERT_EQ(bytes[bytes.size() - 2], 0xff);
  ASSERT_EQ(bytes[bytes.size() - 1], 0xd9);
  bytes.insert(bytes.end() - 2, {0x12, 0x34, 0x56});
  ImageDecoder decoder;
  std::vector<uint8_t> out;
  ASSERT_NO_THROW(decoder.decode(bytes.data(), bytes.size(), 1, out));
  int rw = 0, rh = 0;
  EXPECT_EQ(out, it::reference_decode_jpeg(bytes, &rw, &rh));
}

TEST(ImageCodecJpeg, TruncatedIsAnError) {
  for (bool progressive : {false, true}) {
    std::vector<uint8_t> bytes =
        it::encode_jpeg(synthetic_rgb(kWidth, kHeight), kWidth, kHeight, 3, 90, progressive);
    bytes.resize(bytes.size() * 6 / 10);
    ImageDecoder decoder;
    std::vector<uint8_t> out;
    for (int denom : {1, 8}) {
      try {
        decoder.decode(bytes.data(), bytes.size(), denom, out);
        ADD_FAILURE() << "truncated JPEG decoded, progressive=" << progressive;
      } catch (const ImageError& e) {
        EXPECT_NE(std::string(e.what()).find("remature end"), std::string::npos) << e.what();
      }
    }
  }
}

// ------------------------------------------------------------------ PNG

void expect_png_decodes_to(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& rgb,
                           int width, int height) {
  ImageDecoder decoder;
  ImageInfo info = decoder.info(bytes.data(), bytes.size());
  EXPECT_EQ(info.format, ImageFormat::kPng);
  EXPECT_EQ(info.width, width);
  EXPECT_EQ(info.height, height);
  std::vector<uint8_t> out;
  for (int denom : {1, 4}) {  // PNG ignores denom: always full size
    ImageDecoder::Decoded d = decoder.decode(bytes.data(), bytes.size(), denom, out);
    EXPECT_EQ(d.width, width);
    EXPECT_EQ(d.height, height);
    EXPECT_EQ(d.denom, 1);
    EXPECT_EQ(out, rgb);
  }
}

TEST(ImageCodecPng, RgbGrayAndAlpha) {
  std::vector<uint8_t> rgb = synthetic_rgb(kWidth, kHeight);
  std::vector<uint8_t> gray = to_gray(rgb);
  std::vector<uint8_t> rgba, gray_alpha;
  for (size_t i = 0; i < gray.size(); ++i) {
    uint8_t alpha = static_cast<uint8_t>(i * 7);
    rgba.insert(rgba.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], alpha});
    gray_alpha.insert(gray_alpha.end(), {gray[i], alpha});
  }
  {
    SCOPED_TRACE("rgb");
    expect_png_decodes_to(it::encode_png(rgb, kWidth, kHeight, 3), rgb, kWidth, kHeight);
  }
  {
    SCOPED_TRACE("rgb interlaced");
    expect_png_decodes_to(it::encode_png(rgb, kWidth, kHeight, 3, true), rgb, kWidth, kHeight);
  }
  {
    SCOPED_TRACE("gray");
    expect_png_decodes_to(it::encode_png(gray, kWidth, kHeight, 1), replicate_gray(gray), kWidth,
                          kHeight);
  }
  {
    SCOPED_TRACE("rgba");
    expect_png_decodes_to(it::encode_png(rgba, kWidth, kHeight, 4), rgb, kWidth, kHeight);
  }
  {
    SCOPED_TRACE("gray+alpha");
    expect_png_decodes_to(it::encode_png(gray_alpha, kWidth, kHeight, 2), replicate_gray(gray),
                          kWidth, kHeight);
  }
}

TEST(ImageCodecPng, Palette) {
  std::vector<uint8_t> palette;
  for (int i = 0; i < 200; ++i)
    palette.insert(palette.end(), {static_cast<uint8_t>(i), static_cast<uint8_t>(255 - i),
                                   static_cast<uint8_t>(i * 3)});
  std::vector<uint8_t> indices(static_cast<size_t>(kWidth) * kHeight);
  std::vector<uint8_t> rgb;
  for (size_t i = 0; i < indices.size(); ++i) {
    indices[i] = static_cast<uint8_t>((i * 13) % 200);
    rgb.insert(rgb.end(), palette.begin() + 3 * indices[i], palette.begin() + 3 * indices[i] + 3);
  }
  expect_png_decodes_to(it::encode_palette_png(indices, kWidth, kHeight, palette), rgb, kWidth,
                        kHeight);
}

TEST(ImageCodecPng, SixteenBitKeepsHighByte) {
  std::vector<uint8_t> rgb = synthetic_rgb(kWidth, kHeight);
  std::vector<uint16_t> rgb16(rgb.size()), rgba16;
  for (size_t i = 0; i < rgb.size(); ++i)
    rgb16[i] = static_cast<uint16_t>(rgb[i] << 8 | ((i * 37) & 0xff));  // noisy low byte
  for (size_t i = 0; i < rgb.size() / 3; ++i)
    rgba16.insert(rgba16.end(), {rgb16[3 * i], rgb16[3 * i + 1], rgb16[3 * i + 2], 0x1234});
  std::vector<uint8_t> gray = to_gray(rgb);
  std::vector<uint16_t> gray16(gray.size());
  for (size_t i = 0; i < gray.size(); ++i) gray16[i] = static_cast<uint16_t>(gray[i] << 8 | 0xff);
  {
    SCOPED_TRACE("rgb16");
    expect_png_decodes_to(it::encode_png16(rgb16, kWidth, kHeight, 3), rgb, kWidth, kHeight);
  }
  {
    SCOPED_TRACE("rgba16");
    expect_png_decodes_to(it::encode_png16(rgba16, kWidth, kHeight, 4), rgb, kWidth, kHeight);
  }
  {
    SCOPED_TRACE("gray16");
    expect_png_decodes_to(it::encode_png16(gray16, kWidth, kHeight, 1), replicate_gray(gray),
                          kWidth, kHeight);
  }
}

// ImageNet has PNG bytes in a .JPEG file: the bytes decide.
TEST(ImageCodecPng, PngBytesInJpegFile) {
  ScratchDir dir;
  std::string path = dir.file("n02105855_2933.JPEG");
  std::vector<uint8_t> rgb = synthetic_rgb(kWidth, kHeight);
  it::write_png(path, rgb, kWidth, kHeight, 3);
  std::vector<uint8_t> bytes, out;
  read_file_bytes(path, bytes);
  EXPECT_EQ(sniff_image_format(bytes.data(), bytes.size()), ImageFormat::kPng);
  ImageDecoder decoder;
  ImageDecoder::Decoded d = decoder.decode(bytes.data(), bytes.size(), 2, out);
  EXPECT_EQ(d.width, kWidth);
  EXPECT_EQ(d.denom, 1);
  EXPECT_EQ(out, rgb);
}

TEST(ImageCodecPng, TruncatedOrCorruptIsAnError) {
  std::vector<uint8_t> rgb = synthetic_rgb(kWidth, kHeight);
  std::vector<uint8_t> bytes = it::encode_png(rgb, kWidth, kHeight, 3);
  ImageDecoder decoder;
  std::vector<uint8_t> out;

  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + bytes.size() * 6 / 10);
  EXPECT_THROW(decoder.decode(truncated.data(), truncated.size(), 1, out), ImageError);

  std::vector<uint8_t> corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x5a;  // inside IDAT: CRC (or zlib) error
  EXPECT_THROW(decoder.decode(corrupt.data(), corrupt.size(), 1, out), ImageError);

  // The decoder stays usable after libpng errors.
  decoder.decode(bytes.data(), bytes.size(), 1, out);
  EXPECT_EQ(out, rgb);
}

// ------------------------------------------------------------------ errors

uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
  }
  return ~crc;
}

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// A PNG whose IHDR claims width x height, with a valid IHDR CRC.
std::vector<uint8_t> png_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> bytes = it::encode_png(std::vector<uint8_t>(4 * 4 * 3, 9), 4, 4, 3);
  put_be32(&bytes[16], width);
  put_be32(&bytes[20], height);
  put_be32(&bytes[29], crc32(&bytes[12], 17));
  return bytes;
}

// A JPEG whose SOF claims width x height.
std::vector<uint8_t> jpeg_claiming(int width, int height) {
  std::vector<uint8_t> bytes = it::encode_jpeg(std::vector<uint8_t>(16 * 16 * 3, 9), 16, 16, 3);
  for (size_t i = 2; i + 9 < bytes.size(); ++i) {
    if (bytes[i] == 0xff && (bytes[i + 1] == 0xc0 || bytes[i + 1] == 0xc2)) {
      bytes[i + 5] = static_cast<uint8_t>(height >> 8);
      bytes[i + 6] = static_cast<uint8_t>(height);
      bytes[i + 7] = static_cast<uint8_t>(width >> 8);
      bytes[i + 8] = static_cast<uint8_t>(width);
      return bytes;
    }
  }
  ADD_FAILURE() << "no SOF marker";
  return bytes;
}

void expect_image_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  ImageDecoder decoder;
  std::vector<uint8_t> out;
  try {
    decoder.info(bytes.data(), bytes.size());
    ADD_FAILURE() << "info() accepted it";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  try {
    decoder.decode(bytes.data(), bytes.size(), 1, out);
    ADD_FAILURE() << "decode() accepted it";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ImageCodecErrors, NotAnImage) {
  std::string text = "<html>not found</html>\n";
  expect_image_error(std::vector<uint8_t>(text.begin(), text.end()),
                     "not a JPEG or PNG image (starts with 0x3c 0x68 0x74");
  std::mt19937 rng(7);
  std::vector<uint8_t> noise(4096);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
  noise[0] = 0x42;
  expect_image_error(noise, "not a JPEG or PNG image");
  expect_image_error({}, "empty");
  // A JPEG or PNG signature followed by noise.
  std::vector<uint8_t> fake_jpeg = noise;
  fake_jpeg[0] = 0xff, fake_jpeg[1] = 0xd8, fake_jpeg[2] = 0xff, fake_jpeg[3] = 0xe0;
  expect_image_error(fake_jpeg, "JPEG");
  std::vector<uint8_t> fake_png = noise;
  std::copy_n("\x89PNG\r\n\x1a\n", 8, fake_png.begin());
  expect_image_error(fake_png, "PNG");
  expect_image_error(std::vector<uint8_t>(fake_png.begin(), fake_png.begin() + 8), "PNG");
}

TEST(ImageCodecErrors, SizesBeyondLimits) {
  expect_image_error(png_claiming(40000, 40000), "40000x40000");
  expect_image_error(png_claiming(0, 10), "0x10");
  expect_image_error(png_claiming(30000, 30000), "30000x30000");  // too many pixels
  expect_image_error(jpeg_claiming(40000, 40000), "40000x40000");
  expect_image_error(jpeg_claiming(30000, 30000), "30000x30000");
  expect_image_error(jpeg_claiming(0, 16), "JPEG");  // libjpeg-turbo refuses width 0
}

TEST(ImageCodecErrors, DenomMustBeAPowerOfTwoUpToEight) {
  std::vector<uint8_t> bytes = it::encode_jpeg(synthetic_rgb(kWidth, kHeight), kWidth, kHeight, 3);
  ImageDecoder decoder;
  std::vector<uint8_t> out;
  for (int denom : {0, -1, 3, 16})
    EXPECT_THROW(decoder.decode(bytes.data(), bytes.size(), denom, out), std::invalid_argument);
}

// ------------------------------------------------------------------ misc

TEST(ImageCodec, SniffAndNames) {
  const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xdb};
  const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_EQ(sniff_image_format(jpeg, 4), ImageFormat::kJpeg);
  EXPECT_EQ(sniff_image_format(jpeg, 2), ImageFormat::kUnknown);
  EXPECT_EQ(sniff_image_format(png, 8), ImageFormat::kPng);
  EXPECT_EQ(sniff_image_format(png, 7), ImageFormat::kUnknown);
  EXPECT_EQ(sniff_image_format(nullptr, 0), ImageFormat::kUnknown);
}

// Decoding image after image into the same vector keeps its buffer.
TEST(ImageCodec, ReusesBuffers) {
  std::vector<uint8_t> big = it::encode_jpeg(synthetic_rgb(200, 150), 200, 150, 3);
  std::vector<uint8_t> small = it::encode_jpeg(synthetic_rgb(kWidth, kHeight), kWidth, kHeight, 3);
  std::vector<uint8_t> cmyk =
      it::encode_cmyk_jpeg(synthetic_cmyk(kWidth, kHeight), kWidth, kHeight);
  ImageDecoder decoder;
  std::vector<uint8_t> out;
  decoder.decode(big.data(), big.size(), 1, out);
  const uint8_t* data = out.data();
  for (int i = 0; i < 3; ++i) {
    decoder.decode(small.data(), small.size(), 2, out);
    decoder.decode(cmyk.data(), cmyk.size(), 1, out);
    decoder.decode(big.data(), big.size(), 1, out);
    EXPECT_EQ(out.data(), data);
  }
}

TEST(ImageCodecFiles, ReadFileBytes) {
  ScratchDir dir;
  std::string path = dir.file("bytes.bin");
  std::vector<uint8_t> bytes(100000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31);
  it::write_bytes(path, bytes);
  std::vector<uint8_t> got;
  read_file_bytes(path, got);
  EXPECT_EQ(got, bytes);

  std::string empty = dir.file("empty.bin");
  it::write_bytes(empty, {});
  read_file_bytes(empty, got);
  EXPECT_TRUE(got.empty());

  std::string missing = dir.path() + "/no_such_file.JPEG";
  try {
    read_file_bytes(missing, got);
    ADD_FAILURE() << "read a missing file";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + missing + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_file_bytes(dir.path(), got), ImageError);  // a directory
}

}  // namespace
}  // namespace nds::trainer
