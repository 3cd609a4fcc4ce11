#include "cli/options.h"

#include <iostream>

namespace nds::cli {

namespace po = boost::program_options;

bool parse_options(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* usage, po::variables_map& vm, const char* positional) {
  po::options_description all;
  all.add(opts);
  po::positional_options_description pos;
  if (positional) {
    all.add_options()(positional, po::value<std::vector<std::string>>());
    pos.add(positional, -1);
  }
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return false;
  std::cout << usage << opts;
  return true;
}

}  // namespace nds::cli
