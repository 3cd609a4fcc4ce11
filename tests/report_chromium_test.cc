// `nds report` end to end in a real browser: a small results database
// (real sampled RegNet/AnyNet models and fixed points, synthetic errors and
// training curves), the report written by the nds binary, then loaded by
// headless Chromium, which must log no console message (the page's
// Content-Security-Policy reports any script or fetch there), build the DOM
// with every plot, and paint them (the screenshot differs throughout the
// plot area from one of the same page with the SVGs emptied). A report whose sweep name and texts
// are hostile shows them as text and runs nothing. Screenshots are kept in the build tree (paths
// printed). Skipped when /usr/bin/chromium is missing.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/builtin_spaces.h"
#include "sampler/hash.h"
#include "sampler/sampler.h"
#include "space/complexity.h"
#include "space/transforms.h"
#include "space/zoo.h"
#include "store/store.h"
#include "tests/cli_testing.h"

namespace nds {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kHostile = "<script>alert(1)</script>";

using cli_testing::shell;
using Output = cli_testing::CmdResult;

std::string read_all(const std::string& path) {
  return cli_testing::read_bytes(path);
}

std::string artifact_dir() {
  const std::string dir = NDS_ARTIFACT_DIR;
  mkdir(dir.c_str(), 0755);
  return dir;
}

// ---- a small real database ----

double noise(uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
}

// Trials of `n` samples of a built-in space, plus fixed points as references.
std::vector<store::NewTrial> trials_of(const sampler::DesignSpace& space, int n,
                                       const std::vector<std::string>& references) {
  std::vector<store::NewTrial> out;
  sampler::Sampler sampler(space, 0);
  for (int i = 0; i < n; ++i) {
    const sampler::Sample s = sampler.at(static_cast<uint64_t>(i));
    store::NewTrial t;
    t.model = {sampler::hash_text(s.hash), space.family, s.family_params, to_json(s.spec), s.cost};
    t.seed = i;
    out.push_back(std::move(t));
  }
  ExpandOptions expand;
  expand.in_channels = space.in_channels;
  expand.num_classes = space.num_classes;
  for (const std::string& name : references) {
    const NetSpec spec = with_cifar_stem(fixed_point(name, expand));
    store::NewTrial t;
    t.model = {sampler::hash_text(sampler::spec_hash(spec)), spec.family,
               nlohmann::json{{"family", spec.family}, {"fixed_point", name}}, to_json(spec),
               complexity(spec, space.resolution)};
    t.seed = static_cast<int64_t>(out.size());
    t.reference = name;
    out.push_back(std::move(t));
  }
  return out;
}

// Completes every trial with a synthetic error and five epochs of training
// curve.
void complete_all(store::Store& s, int64_t sweep_id, double offset, uint64_t seed) {
  uint64_t rng = seed;
  while (const auto claimed = s.claim(sweep_id, {0, "test", "cpu"})) {
    store::TrialResult r;
    r.top1_err = offset + 6 * noise(rng) + 3 * noise(rng);
    r.top5_err = r.top1_err / 4;
    r.best_top1_err = r.top1_err;
    r.best_top5_err = r.top5_err;
    r.epochs_done = 5;
    r.train_loss = 0.3;
    r.train_seconds = 10;
    r.images_per_sec = 1000;
    for (int e = 1; e <= 5; ++e) {
      store::EpochMetrics m;
      m.epoch = e;
      m.train_loss = 2.0 / e;
      m.train_top1_err = r.top1_err + 20.0 / e;
      m.train_top5_err = m.train_top1_err / 4;
      m.test_top1_err = r.top1_err + 25.0 * (5 - e) / (4.0 * e);
      m.test_top5_err = m.test_top1_err / 4;
      m.lr = 0.1 * (1 - e / 6.0);
      m.seconds = 2;
      r.epochs.push_back(m);
    }
    s.complete(claimed->trial_id, r);
  }
}

// Four sweeps: regnet_demo (24 RegNetX samples and two fixed points),
// anynet_demo (20 AnyNetX_E samples), empty_demo (nothing completed) and
// regnet_paired (regnet_demo's first 16 samples and one fixed point).
// The space descriptions are hostile text.
void build_database(const std::string& path) {
  store::Store s(path);
  const auto add = [&](const std::string& name, const std::string& space_name, int n,
                       const std::vector<std::string>& refs) {
    const sampler::DesignSpace space = sampler::builtin_space(space_name);
    store::SweepDef def;
    def.name = name;
    def.family = space.family;
    def.space = sampler::to_json(space);
    def.space["description"] = std::string(kHostile) + " </style><img src=x onerror=alert(2)>";
    def.recipe = {{"epochs", 5}, {"data", "fashion-mnist"}, {"stem", "cifar"}};
    def.build = {"0.1.0", "", "cpu", 1};
    return s.create_sweep(def, trials_of(space, n, refs));
  };
  const int64_t regnet = add("regnet_demo", "regnet_x_cifar", 24, {"regnet_x_200mf", "resnet18"});
  const int64_t anynet = add("anynet_demo", "anynet_x_e_cifar", 20, {});
  add("empty_demo", "regnet_y_cifar", 4, {});
  // The first 16 of regnet_demo's samples and one of its fixed points again:
  // 17 models to pair.
  const int64_t paired = add("regnet_paired", "regnet_x_cifar", 16, {"regnet_x_200mf"});
  complete_all(s, regnet, 8, 1);
  complete_all(s, anynet, 9.5, 2);
  complete_all(s, paired, 6, 3);
  s.finish_sweep(regnet);
  s.finish_sweep(anynet);
  s.finish_sweep(paired);
}

// ---- PNG ----

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

uint32_t be32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes).
// Returns an empty image and sets `error` otherwise.
Image decode_png(const std::string& bytes, std::string* error) {
  Image img;
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    *error = "not a PNG";
    return img;
  }
  std::string idat;
  int channels = 0;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    const uint32_t len = be32(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (at + 12 + len > bytes.size()) break;
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(bytes, at + 8));
      img.height = static_cast<int>(be32(bytes, at + 12));
      const int depth = static_cast<uint8_t>(bytes[at + 16]);
      const int color = static_cast<uint8_t>(bytes[at + 17]);
      const int interlace = static_cast<uint8_t>(bytes[at + 20]);
      channels = color == 2 ? 3 : color == 6 ? 4 : 0;
      if (depth != 8 || channels == 0 || interlace != 0) {
        *error = "unsupported PNG: depth " + std::to_string(depth) + ", color type " +
                 std::to_string(color) + ", interlace " + std::to_string(interlace);
        return {};
      }
    } else if (type == "IDAT") {
      idat.append(bytes, at + 8, len);
    }
    at += 12 + len;
  }
  const size_t stride = static_cast<size_t>(img.width) * static_cast<size_t>(channels);
  std::vector<uint8_t> raw((stride + 1) * static_cast<size_t>(img.height));
  uLongf raw_len = static_cast<uLongf>(raw.size());
  if (channels == 0 ||
      uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                 static_cast<uLong>(idat.size())) != Z_OK ||
      raw_len != raw.size()) {
    *error = "PNG data does not inflate to its size";
    return {};
  }
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  img.rgb.resize(static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* line = raw.data() + static_cast<size_t>(y) * (stride + 1);
    const int filter = line[0];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<size_t>(channels) ? cur[i - channels] : 0;
      const int b = prev[i];
      const int c = i >= static_cast<size_t>(channels) ? prev[i - channels] : 0;
      int pred = 0;
      switch (filter) {
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          pred = 0;
      }
      cur[i] = static_cast<uint8_t>(line[1 + i] + pred);
    }
    for (int x = 0; x < img.width; ++x)
      for (int k = 0; k < 3; ++k)
        img.rgb[(static_cast<size_t>(y) * img.width + x) * 3 + k] =
            cur[static_cast<size_t>(x) * channels + k];
    prev.swap(cur);
  }
  return img;
}

// Pixels that differ between two images of the same size, per band of rows.
std::vector<int> differing_per_band(const Image& a, const Image& b, int band) {
  std::vector<int> out((a.height + band - 1) / band, 0);
  for (size_t i = 0; i < a.rgb.size() && i < b.rgb.size(); i += 3) {
    const int d = std::abs(a.rgb[i] - b.rgb[i]) + std::abs(a.rgb[i + 1] - b.rgb[i + 1]) +
                  std::abs(a.rgb[i + 2] - b.rgb[i + 2]);
    if (d > 30) ++out[i / 3 / static_cast<size_t>(a.width) / static_cast<size_t>(band)];
  }
  return out;
}

// The page with the content of every <svg> element removed (the element and
// its viewBox stay, so the layout does not change).
std::string without_svg_content(const std::string& html) {
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t open = html.find("<svg", i);
    if (open == std::string::npos) break;
    const size_t open_end = html.find('>', open);
    const size_t close = html.find("</svg>", open_end);
    if (open_end == std::string::npos || close == std::string::npos) break;
    out.append(html, i, open_end + 1 - i);
    i = close;
  }
  out.append(html, i, std::string::npos);
  return out;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1)) ++n;
  return n;
}

// ---- the tests ----

class ReportChromium : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(artifact_dir());
    // Per process: CTest may run the tests of this file at the same time.
    const std::string pid = std::to_string(getpid());
    db_ = new std::string(*dir_ + "/demo_" + pid + ".db");
    profile_ = new std::string(*dir_ + "/chromium_profile_" + pid);
    std::remove(db_->c_str());
    build_database(*db_);
  }
  static void TearDownTestSuite() {
    std::remove(db_->c_str());
    std::system(("rm -rf '" + *profile_ + "'").c_str());
    delete dir_;
    delete db_;
    delete profile_;
  }
  void SetUp() override {
    if (access(kChromium, X_OK) != 0)
      GTEST_SKIP() << kChromium
                   << " is missing (Debian package chromium); skipping the browser "
                      "checks";
  }

  static std::string nds(const std::string& args) { return std::string(NDS_BINARY) + " " + args; }

  // Chromium, headless, with its own profile; console messages on stderr.
  static Output chromium(const std::string& what, const std::string& page) {
    const std::string& profile = *profile_;
    return shell("timeout 120 " + std::string(kChromium) +
                     " --headless --no-sandbox --disable-gpu --hide-scrollbars "
                     "--enable-logging=stderr --v=0 --user-data-dir=" +
                     profile + " " + what + " file://" + page,
                 *dir_);
  }

  // Console messages and uncaught errors in Chromium's log.
  static std::vector<std::string> console_lines(const std::string& log) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < log.size()) {
      size_t e = log.find('\n', i);
      if (e == std::string::npos) e = log.size();
      const std::string line = log.substr(i, e - i);
      if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
        out.push_back(line);
      i = e + 1;
    }
    return out;
  }

  // Writes the report of the demo database with `args` (nds report options)
  // to the page `name` in the artifact folder; returns the page's path.
  static std::string write_report(const std::string& name, const std::string& args) {
    const std::string page = *dir_ + "/" + name;
    const Output r = shell(nds("report --db " + *db_ + " " + args + " -o " + page), *dir_);
    EXPECT_EQ(r.code, 0) << r.err;
    return page;
  }

  // Screenshots of `page` (whose text is `html`) and of the same page with
  // every <svg> emptied (same viewBox, so the same layout), `stem`.png and
  // `stem`_svgs_emptied.png at 1280 x height: the pixels that differ per
  // band of rows, or nothing (and a failure) when a screenshot failed.
  static std::vector<int> painted_per_band(const std::string& page, const std::string& html,
                                           const std::string& stem, int height, int band) {
    const std::string png = *dir_ + "/" + stem + ".png";
    const std::string bare = *dir_ + "/" + stem + "_svgs_emptied.html";
    const std::string bare_png = *dir_ + "/" + stem + "_svgs_emptied.png";
    std::ofstream(bare) << without_svg_content(html);
    for (const std::string* p : {&png, &bare_png}) std::remove(p->c_str());
    const std::string size = " --window-size=1280," + std::to_string(height);
    const Output shot = chromium("--screenshot=" + png + size, page);
    EXPECT_EQ(shot.code, 0) << shot.err;
    EXPECT_EQ(console_lines(shot.err), std::vector<std::string>{});
    EXPECT_EQ(chromium("--screenshot=" + bare_png + size, bare).code, 0);
    std::string error;
    const Image img = decode_png(read_all(png), &error);
    const Image control = decode_png(read_all(bare_png), &error);
    if (!error.empty() || img.width != 1280 || img.height != height || control.width != img.width ||
        control.height != img.height) {
      ADD_FAILURE() << "screenshots of " << page << " (" << error << ") are not 1280 x " << height;
      return {};
    }
    std::printf("screenshot: %s (control %s)\n", png.c_str(), bare_png.c_str());
    return differing_per_band(img, control, band);
  }

  static std::string* dir_;
  static std::string* db_;
  static std::string* profile_;
};

std::string* ReportChromium::dir_ = nullptr;
std::string* ReportChromium::db_ = nullptr;
std::string* ReportChromium::profile_ = nullptr;

TEST_F(ReportChromium, RealSweepLoadsWithoutErrorsAndDrawsThePlots) {
  const std::string page = write_report(
      "report.html", "--sweep regnet_demo --compare anynet_demo --bootstrap 500 --bins 2");
  const std::string html = read_all(page);
  ASSERT_FALSE(html.empty());
  EXPECT_EQ(html.find("<script"), std::string::npos);

  // The DOM Chromium builds: every plot is an <svg> element.
  const Output dom = chromium("--dump-dom", page);
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{});
  const size_t svgs = count(dom.out, "<svg ");
  EXPECT_GE(svgs, 15u) << "EDFs, search, 3 complexity, parameters, widths, curves, e_fit";
  EXPECT_EQ(svgs, count(html, "<svg "));
  EXPECT_NE(dom.out.find("regnet_demo | n=24 | min"), std::string::npos);
  EXPECT_NE(dom.out.find("anynet_demo | n=20 | min"), std::string::npos);
  EXPECT_NE(dom.out.find("regnet_x_200mf"), std::string::npos) << "reference marked";
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  EXPECT_EQ(dom.out.find("<img"), std::string::npos) << "the hostile description stayed text";

  // The screenshot against one of the same page with every <svg> emptied
  // (same viewBox, so the same layout): the plots must change many pixels
  // in every 600-pixel band below the header and tables.
  const std::vector<int> bands = painted_per_band(page, html, "report", 3000, 600);
  ASSERT_EQ(bands.size(), 5u);
  int total = 0;
  for (size_t b = 1; b < bands.size(); ++b) {
    EXPECT_GT(bands[b], 5000) << "band " << b << " (y " << 600 * b << ".." << 600 * (b + 1)
                              << ") has no plot drawn";
    total += bands[b];
  }
  EXPECT_LT(bands[0], 1000) << "the header and tables hold no plot";
  std::printf("report: %s (%d pixels drawn by the plots)\n", page.c_str(), total);

  // A sweep with no completed trial: a page that says so, no errors.
  const std::string empty = write_report("report_empty.html", "--sweep empty_demo");
  const Output empty_dom = chromium("--dump-dom", empty);
  ASSERT_EQ(empty_dom.code, 0);
  EXPECT_NE(empty_dom.out.find("No completed trials."), std::string::npos);
  EXPECT_EQ(console_lines(empty_dom.err), std::vector<std::string>{});
}

// The paired comparison of two sweeps that trained the same models: its
// section in the DOM with the statistics and the scatter (dots and the
// dashed diagonal), which paints: the section alone on a page differs from
// the same page with its SVG emptied.
TEST_F(ReportChromium, PairedComparisonDrawsThePairedScatter) {
  const std::string page = write_report(
      "report_paired.html", "--sweep regnet_demo --compare regnet_paired --bootstrap 200 --bins 2");
  const std::string html = read_all(page);
  const Output dom = chromium("--dump-dom", page);
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{});
  const size_t section = dom.out.find("<section id=\"paired\">");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(dom.out.find("<td>17</td>", section), std::string::npos)
      << "16 samples + 1 fixed point";
  const size_t title =
      dom.out.find("<title>Paired errors: regnet_demo vs regnet_paired</title>", section);
  ASSERT_NE(title, std::string::npos);
  const std::string plot = dom.out.substr(title, dom.out.find("</svg>", title) - title);
  EXPECT_NE(plot.find("class=\"dots\""), std::string::npos) << "the pairs";
  EXPECT_NE(plot.find("stroke-dasharray"), std::string::npos) << "the diagonal";
  EXPECT_NE(plot.find("y = x: the same error in both"), std::string::npos);

  // The section alone on a page paints its scatter.
  const size_t from = html.find("<section id=\"paired\">");
  ASSERT_NE(from, std::string::npos);
  const std::string alone = html.substr(0, html.find("<main>") + 6) +
                            html.substr(from, html.find("</section>", from) + 10 - from) +
                            "</main>\n</body>\n</html>\n";
  const std::string alone_page = *dir_ + "/paired_alone.html";
  std::ofstream(alone_page) << alone;
  const std::vector<int> bands = painted_per_band(alone_page, alone, "paired_alone", 900, 900);
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_GT(bands[0], 3000) << "the paired scatter paints";
}

// The report of a sweep that really trained (synthetic data, a few steps per
// model) through nds sweep, when this build has the LibTorch plugin.
TEST_F(ReportChromium, TrainedSweepRendersWithoutErrors) {
  const std::string bin = NDS_BINARY;
  const std::string plugin = bin.substr(0, bin.rfind('/')) + "/libnds_torch.so";
  if (access(plugin.c_str(), R_OK) != 0)
    GTEST_SKIP() << plugin << " is missing (built without LibTorch): no training here";
  const std::string db = *dir_ + "/trained_" + std::to_string(getpid()) + ".db";
  std::remove(db.c_str());
  const Output sweep = shell(
      nds("sweep --space regnet_x_cifar -n 4 --flops :20M --include regnet_x_200mf --db " + db +
          " --name trained --data synthetic --synthetic-size 512 --test-subset 256 "
          "--epochs 2 --batch-size 64 --stem cifar --threads 1 --quiet"),
      *dir_);
  ASSERT_EQ(sweep.code, 0) << sweep.err;
  const std::string page = *dir_ + "/trained_report.html";
  const Output r = shell(
      nds("report --db " + db + " --sweep trained --bootstrap 200 --bins 2 -o " + page), *dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const Output dom = chromium("--dump-dom", page);
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{});
  EXPECT_GE(count(dom.out, "<svg "), 10u);
  EXPECT_NE(dom.out.find("trained | n=4 | min"), std::string::npos);
  EXPECT_NE(dom.out.find("regnet_x_200mf"), std::string::npos) << "the reference is marked";
  const std::string png = *dir_ + "/trained_report.png";
  std::remove(png.c_str());
  const Output shot = chromium("--screenshot=" + png + " --window-size=1280,3000", page);
  ASSERT_EQ(shot.code, 0) << shot.err;
  std::string error;
  const Image img = decode_png(read_all(png), &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(img.width, 1280);
  std::printf("trained sweep report: %s\nscreenshot: %s\n", page.c_str(), png.c_str());
  std::remove(db.c_str());
}

TEST_F(ReportChromium, HostileNameIsShownAsTextAndRunsNoScript) {
  // The store refuses such sweep names, so the document is edited: the way
  // `nds report --from-json` re-renders anything a user hands it.
  const std::string json_path = *dir_ + "/report.json";
  ASSERT_EQ(shell(nds("report --db " + *db_ +
                      " --sweep regnet_demo --compare anynet_demo "
                      "--bootstrap 200 --format json -o " +
                      json_path),
                  *dir_)
                .code,
            0);
  nlohmann::json doc = nlohmann::json::parse(read_all(json_path));
  const std::string canary = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";
  doc["sweeps"][0]["name"] = kHostile;
  doc["sweeps"][1]["name"] = canary;
  for (auto& row : doc["ks"]) {
    row["a"] = kHostile;
    row["b"] = canary;
  }
  const std::string hostile_json = *dir_ + "/hostile.json";
  std::ofstream(hostile_json) << doc.dump();
  const std::string page = *dir_ + "/hostile.html";
  const Output r = shell(nds("report --from-json " + hostile_json + " -o " + page), *dir_);
  ASSERT_EQ(r.code, 0) << r.err;

  const Output dom = chromium("--dump-dom", page);
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{}) << "a script ran or was blocked";
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  EXPECT_EQ(dom.out.find("<img"), std::string::npos);
  EXPECT_EQ(dom.out.find("data-pwned=\""), std::string::npos);
  // The name is text: in the title and the heading, escaped in the serialized DOM.
  EXPECT_NE(dom.out.find("<title>nds report: &lt;script&gt;alert(1)&lt;/script&gt;</title>"),
            std::string::npos);
  EXPECT_NE(dom.out.find("<span class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"),
            std::string::npos);
  const std::string png = *dir_ + "/hostile.png";
  const Output shot = chromium("--screenshot=" + png + " --window-size=1280,1200", page);
  EXPECT_EQ(shot.code, 0);
  EXPECT_EQ(console_lines(shot.err), std::vector<std::string>{});
  std::printf("hostile-name report: %s, screenshot %s\n", page.c_str(), png.c_str());
}

}  // namespace
}  // namespace nds
