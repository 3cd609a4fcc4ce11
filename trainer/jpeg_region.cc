#include "trainer/jpeg_region.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>

#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <string>

#include "trainer/image_codec.h"

namespace nds::trainer {

// libjpeg leaves through longjmp on errors: everything its callbacks touch
// is plain data.
struct JpegRegionDecoder::State {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;  // a warning that the data ended early
};

namespace {

void on_error(j_common_ptr cinfo) {
  auto* s = reinterpret_cast<JpegRegionDecoder::State*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, s->message);
  std::longjmp(s->jump, 1);
}

// Warnings (level -1) that the data ended early make the image unusable, as
// in PIL; others (extraneous bytes before a marker) do not.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
    auto* s = reinterpret_cast<JpegRegionDecoder::State*>(cinfo->client_data);
    if (!s->truncated) (*cinfo->err->format_message)(cinfo, s->message);
    s->truncated = true;
  }
}

// The body of decode(), between setjmp and the end: no objects with
// destructors, since an error longjmps out of it.
bool decode_rows(JpegRegionDecoder::State& s, const uint8_t* bytes, size_t size, int denom,
                 const PixelRect& want, std::vector<uint8_t>& out, std::vector<uint8_t*>& rows,
                 PixelRect& got) {
  jpeg_decompress_struct& c = s.cinfo;
  jpeg_mem_src(&c, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&c, TRUE);
  if (c.progressive_mode || c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK) {
    jpeg_abort_decompress(&c);
    return false;
  }
  c.out_color_space = JCS_RGB;
  c.scale_num = 1;
  c.scale_denom = static_cast<unsigned>(denom);
  jpeg_start_decompress(&c);
  const int w = static_cast<int>(c.output_width), h = static_cast<int>(c.output_height);
  const int x0 = std::clamp(want.x, 0, w - 1), y0 = std::clamp(want.y, 0, h - 1);
  const int x1 = std::clamp(want.x + want.width, x0 + 1, w);
  const int y1 = std::clamp(want.y + want.height, y0 + 1, h);
  JDIMENSION xoff = static_cast<JDIMENSION>(x0), width = static_cast<JDIMENSION>(x1 - x0);
  if (x0 > 0 || x1 < w) jpeg_crop_scanline(&c, &xoff, &width);
  got = {static_cast<int>(xoff), y0, static_cast<int>(width), y1 - y0};
  out.resize(static_cast<size_t>(got.width) * static_cast<size_t>(got.height) * 3);
  rows.resize(static_cast<size_t>(got.height));
  for (int r = 0; r < got.height; ++r)
    rows[static_cast<size_t>(r)] = out.data() + static_cast<size_t>(r) * got.width * 3;
  if (y0 > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(y0));
  while (c.output_scanline < static_cast<JDIMENSION>(y1) && !s.truncated) {
    const JDIMENSION done = c.output_scanline - static_cast<JDIMENSION>(y0);
    jpeg_read_scanlines(&c, rows.data() + done, static_cast<JDIMENSION>(y1) - c.output_scanline);
  }
  jpeg_abort_decompress(&c);  // the rows below are not needed
  return true;
}

}  // namespace

JpegRegionDecoder::JpegRegionDecoder() : state_(new State) {
  state_->cinfo.err = jpeg_std_error(&state_->err);
  state_->err.error_exit = on_error;
  state_->err.emit_message = on_message;
  state_->cinfo.client_data = state_;
  jpeg_create_decompress(&state_->cinfo);
}

JpegRegionDecoder::~JpegRegionDecoder() {
  jpeg_destroy_decompress(&state_->cinfo);
  delete state_;
}

bool JpegRegionDecoder::decode(const uint8_t* bytes, size_t size, int denom, const PixelRect& want,
                               std::vector<uint8_t>& out, PixelRect& got) {
  state_->truncated = false;
  state_->message[0] = '\0';
  bool handled = false;
  if (setjmp(state_->jump) == 0) {
    handled = decode_rows(*state_, bytes, size, denom, want, out, rows_, got);
  } else {
    jpeg_abort_decompress(&state_->cinfo);
    throw ImageError(std::string("corrupt JPEG data: ") + state_->message);
  }
  if (state_->truncated) throw ImageError(std::string("corrupt JPEG data: ") + state_->message);
  return handled;
}

}  // namespace nds::trainer
