#include "trainer/image_codec.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>

namespace nds::trainer {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Larger files are not images we want: a hostile or wrong path must not make
// the reader allocate without bound.
constexpr off_t kMaxFileBytes = off_t{1} << 30;

// libpng may allocate this much for one ancillary chunk (iCCP, zTXt, ...).
constexpr png_alloc_size_t kPngChunkMallocMax = png_alloc_size_t{1} << 25;

std::string size_text(int64_t width, int64_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

void check_dimensions(const char* format, int64_t width, int64_t height) {
  if (width < 1 || height < 1)
    throw ImageError(std::string("invalid ") + format + " image size " + size_text(width, height));
  if (width > kMaxImageSide || height > kMaxImageSide || width * height > kMaxImagePixels)
    throw ImageError(std::string(format) + " image size " + size_text(width, height) +
                     " exceeds the limit (" + std::to_string(kMaxImageSide) + " a side, " +
                     std::to_string(kMaxImagePixels) + " pixels)");
}

[[noreturn]] void throw_unknown_format(const uint8_t* bytes, size_t size) {
  if (size == 0) throw ImageError("empty image data (0 bytes)");
  std::string hex;
  char byte[8];
  for (size_t i = 0; i < size && i < 8; ++i) {
    std::snprintf(byte, sizeof byte, "%s0x%02x", i ? " " : "", bytes[i]);
    hex += byte;
  }
  throw ImageError("not a JPEG or PNG image (starts with " + hex + ")");
}

bool is_valid_denom(int denom) {
  if (denom != 1 && denom != 2 && denom != 4 && denom != 8) return false;
  // libjpeg-turbo lists the factors it supports; 1/2, 1/4, 1/8 always are.
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  for (int i = 0; factors && i < count; ++i)
    if (factors[i].num == 1 && factors[i].denom == denom) return true;
  return false;
}

// ---------------------------------------------------------------- JPEG

struct JpegHeader {
  int width = 0;
  int height = 0;
  int colorspace = 0;  // TJCS_*
};

JpegHeader read_jpeg_header(tjhandle tj, const uint8_t* bytes, size_t size) {
  JpegHeader header;
  int subsamp = 0;
  if (tjDecompressHeader3(tj, bytes, static_cast<unsigned long>(size), &header.width,
                          &header.height, &subsamp, &header.colorspace) != 0)
    throw ImageError(std::string("corrupt JPEG header: ") + tjGetErrorStr2(tj));
  check_dimensions("JPEG", header.width, header.height);
  return header;
}

// libjpeg-turbo's warnings that mean the data ended before the image did
// (jerror.h: JWRN_JPEG_EOF "Premature end of JPEG file", JWRN_HIT_MARKER
// "Corrupt JPEG data: premature end of data segment"). Other warnings, such
// as "N extraneous bytes before marker", leave a usable image, as in PIL.
// TurboJPEG reports only the first warning of a decode.
bool is_truncation_warning(const char* message) {
  return std::strstr(message, "Premature end") || std::strstr(message, "premature end");
}

void jpeg_decompress(tjhandle tj, const uint8_t* bytes, size_t size, uint8_t* dst, int width,
                     int height, int pixel_format) {
  // Default flags (accurate IDCT, fancy upsampling): a full-size decode is
  // byte-identical to libjpeg-turbo's (and PIL's) default output.
  // LIMITSCANS refuses progressive files with pathologically many scans.
  if (tjDecompress2(tj, bytes, static_cast<unsigned long>(size), dst, width, 0, height,
                    pixel_format, TJFLAG_LIMITSCANS) == 0)
    return;
  const char* message = tjGetErrorStr2(tj);
  if (tjGetErrorCode(tj) == TJERR_WARNING && !is_truncation_warning(message)) return;
  throw ImageError(std::string("corrupt JPEG data: ") + message);
}

// Pillow's CMYK -> RGB for a 4-channel JPEG, so CMYK files look as they do
// through torchvision's PIL loader. Pillow always reads them as inverted
// ("CMYK;I", Adobe polarity; it does not look for the APP14 marker), so the
// ink is C = 255 - c for a decoded value c (same for M, Y, K). Then, as in
// Pillow's Convert.c cmyk2rgb, with nk = 255 - K:
//   R = nk - muldiv255(C, nk), G = nk - muldiv255(M, nk), B = nk - muldiv255(Y, nk)
// where muldiv255(a, b) = (t + (t >> 8)) >> 8, t = a * b + 128 (a rounded
// a * b / 255). All results lie in [0, 255].
inline uint8_t cmyk_channel(int ink, int nk) {
  int t = ink * nk + 128;
  return static_cast<uint8_t>(nk - ((t + (t >> 8)) >> 8));
}

void cmyk_to_rgb(const uint8_t* cmyk, size_t pixels, uint8_t* rgb) {
  for (size_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3) {
    int nk = cmyk[3];  // 255 - K with K = 255 - cmyk[3]
    rgb[0] = cmyk_channel(255 - cmyk[0], nk);
    rgb[1] = cmyk_channel(255 - cmyk[1], nk);
    rgb[2] = cmyk_channel(255 - cmyk[2], nk);
  }
}

// ---------------------------------------------------------------- PNG

struct PngHeader {
  int64_t width = 0;
  int64_t height = 0;
};

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// CRC-32 as PNG uses it (bitwise: only the 17 IHDR bytes go through it).
uint32_t png_crc(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

bool valid_png_format(int bit_depth, int color_type) {
  switch (color_type) {
    case 0:
      return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8 ||
             bit_depth == 16;
    case 3:
      return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8;
    case 2:
    case 4:
    case 6:
      return bit_depth == 8 || bit_depth == 16;
  }
  return false;
}

// The IHDR chunk, which PNG requires first, read and checked by hand: cheap,
// and it rejects absurd sizes before libpng allocates anything.
PngHeader read_png_header(const uint8_t* bytes, size_t size) {
  constexpr size_t kIhdrEnd = 8 + 8 + 13 + 4;  // signature, length+type, data, CRC
  if (size < kIhdrEnd) throw ImageError("truncated PNG header");
  const uint8_t* chunk = bytes + 8;
  if (read_be32(chunk) != 13 || std::memcmp(chunk + 4, "IHDR", 4) != 0)
    throw ImageError("corrupt PNG header: IHDR chunk missing");
  if (png_crc(chunk + 4, 17) != read_be32(chunk + 21))
    throw ImageError("corrupt PNG header: IHDR CRC error");
  const uint8_t* ihdr = chunk + 8;
  PngHeader header{read_be32(ihdr), read_be32(ihdr + 4)};
  if (!valid_png_format(ihdr[8], ihdr[9]) || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1)
    throw ImageError("corrupt PNG header: invalid IHDR fields");
  check_dimensions("PNG", header.width, header.height);
  return header;
}

// Everything libpng's callbacks touch: a plain struct, since libpng leaves
// through longjmp.
struct PngState {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[200];
};

void png_on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // as PIL: warnings are not errors

void png_read_memory(png_structp png, png_bytep dst, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) png_error(png, "PNG data ended early (truncated file)");
  std::memcpy(dst, state->data + state->pos, length);
  state->pos += length;
}

// Sets up the transforms to 8-bit RGB and reads the header chunks. No C++
// objects with destructors live here: a libpng error longjmps back in.
bool png_start(png_structp png, png_infop info, PngState* state, int* passes) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, state, png_read_memory);
  png_set_user_limits(png, kMaxImageSide, kMaxImageSide);
  png_set_chunk_malloc_max(png, kPngChunkMallocMax);
  png_read_info(png, info);
  // PIL's convert("RGB"): palettes and low-bit gray expanded (tRNS ignored),
  // 16-bit samples to their high byte, alpha dropped, gray replicated.
  int color_type = png_get_color_type(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  *passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return true;
}

// Reads the pixels into rows of `stride` bytes. Row by row (each pass of an
// interlaced image refines the same rows), so no row-pointer array is needed.
// Chunks after the image data are not read: a missing IEND is tolerated, as
// in PIL.
bool png_read_pixels(png_structp png, uint8_t* dst, size_t stride, int height, int passes) {
  if (setjmp(png_jmpbuf(png))) return false;
  for (int pass = 0; pass < passes; ++pass)
    for (int y = 0; y < height; ++y)
      png_read_row(png, dst + static_cast<size_t>(y) * stride, nullptr);
  return true;
}

// Owns libpng's read structures.
class PngReader {
 public:
  explicit PngReader(PngState* state) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, png_on_error, png_on_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) {
      png_destroy_read_struct(png_ ? &png_ : nullptr, nullptr, nullptr);
      throw ImageError("cannot initialize libpng");
    }
  }
  ~PngReader() { png_destroy_read_struct(&png_, &info_, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

ImageDecoder::Decoded decode_png(const uint8_t* bytes, size_t size, std::vector<uint8_t>& out) {
  read_png_header(bytes, size);
  PngState state{bytes, size, 0, {}};
  PngReader reader(&state);
  int passes = 1;
  if (!png_start(reader.png(), reader.info(), &state, &passes))
    throw ImageError(std::string("corrupt PNG: ") + state.message);
  ImageDecoder::Decoded result;
  result.width = static_cast<int>(png_get_image_width(reader.png(), reader.info()));
  result.height = static_cast<int>(png_get_image_height(reader.png(), reader.info()));
  check_dimensions("PNG", result.width, result.height);
  size_t stride = static_cast<size_t>(result.width) * 3;
  if (png_get_rowbytes(reader.png(), reader.info()) != stride)
    throw ImageError("PNG: unexpected row layout after conversion to RGB");
  out.resize(stride * static_cast<size_t>(result.height));
  if (!png_read_pixels(reader.png(), out.data(), stride, result.height, passes))
    throw ImageError(std::string("corrupt PNG: ") + state.message);
  return result;
}

// ---------------------------------------------------------------- files

// Closes a file descriptor at scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

std::string errno_text(const std::string& what, const std::string& path, int err) {
  return what + " '" + path + "': " + std::strerror(err);
}

}  // namespace

ImageFormat sniff_image_format(const uint8_t* bytes, size_t size) {
  if (size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
    return ImageFormat::kJpeg;
  if (size >= sizeof kPngSignature && std::memcmp(bytes, kPngSignature, sizeof kPngSignature) == 0)
    return ImageFormat::kPng;
  return ImageFormat::kUnknown;
}

ImageDecoder::ImageDecoder() : tj_(tjInitDecompress()) {
  if (!tj_)
    throw ImageError(std::string("cannot initialize TurboJPEG: ") + tjGetErrorStr2(nullptr));
}

ImageDecoder::~ImageDecoder() {
  tjDestroy(static_cast<tjhandle>(tj_));
}

ImageInfo ImageDecoder::info(const uint8_t* bytes, size_t size) {
  ImageInfo result;
  result.format = sniff_image_format(bytes, size);
  if (result.format == ImageFormat::kJpeg) {
    JpegHeader header = read_jpeg_header(static_cast<tjhandle>(tj_), bytes, size);
    result.width = header.width;
    result.height = header.height;
  } else if (result.format == ImageFormat::kPng) {
    PngHeader header = read_png_header(bytes, size);
    result.width = static_cast<int>(header.width);
    result.height = static_cast<int>(header.height);
  } else {
    throw_unknown_format(bytes, size);
  }
  return result;
}

ImageDecoder::Decoded ImageDecoder::decode(const uint8_t* bytes, size_t size, int denom,
                                           std::vector<uint8_t>& out) {
  if (!is_valid_denom(denom))
    throw std::invalid_argument("image decode: denom must be 1, 2, 4 or 8, not " +
                                std::to_string(denom));
  ImageFormat format = sniff_image_format(bytes, size);
  if (format == ImageFormat::kPng) return decode_png(bytes, size, out);
  if (format != ImageFormat::kJpeg) throw_unknown_format(bytes, size);

  auto tj = static_cast<tjhandle>(tj_);
  JpegHeader header = read_jpeg_header(tj, bytes, size);
  Decoded result;
  result.width = scaled_side(header.width, denom);  // TJSCALED with 1/denom
  result.height = scaled_side(header.height, denom);
  result.denom = denom;
  size_t pixels = static_cast<size_t>(result.width) * static_cast<size_t>(result.height);
  out.resize(pixels * 3);
  if (header.colorspace == TJCS_CMYK || header.colorspace == TJCS_YCCK) {
    // libjpeg-turbo has no CMYK -> RGB conversion: decode to CMYK, convert here.
    cmyk_.resize(pixels * 4);
    jpeg_decompress(tj, bytes, size, cmyk_.data(), result.width, result.height, TJPF_CMYK);
    cmyk_to_rgb(cmyk_.data(), pixels, out.data());
  } else {
    jpeg_decompress(tj, bytes, size, out.data(), result.width, result.height, TJPF_RGB);
  }
  return result;
}

void read_file_bytes(const std::string& path, std::vector<uint8_t>& out) {
  Fd file{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw ImageError(errno_text("cannot open", path, errno));
  struct stat st {};
  if (fstat(file.fd, &st) != 0) throw ImageError(errno_text("cannot stat", path, errno));
  if (!S_ISREG(st.st_mode)) throw ImageError("cannot read '" + path + "': not a regular file");
  if (st.st_size > kMaxFileBytes)
    throw ImageError("cannot read '" + path + "': " + std::to_string(st.st_size) +
                     " bytes, more than the 1 GiB limit");
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(file.fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ImageError(errno_text("cannot read", path, errno));
    if (n == 0) throw ImageError("cannot read '" + path + "': file shrank while reading");
    done += static_cast<size_t>(n);
  }
}

}  // namespace nds::trainer
