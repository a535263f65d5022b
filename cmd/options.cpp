#include "cmd/options.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/namespaces.hpp"
#include "runtime/sys/error.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
template void boost::program_options::typed_value<std::string>::notify(const boost::any&) const;
template void boost::program_options::typed_value<std::vector<std::string>>::notify(const boost::any&) const;
#pragma GCC diagnostic pop

namespace berth::cmd {

namespace {

// unix_style without prefix guessing (runc does not accept `--deb` for
// `--debug`, and guessing would hide typos), plus Go's single-dash long
// flags (`-root X`), which runc's flag package accepts.
constexpr int kStyle = (po::command_line_style::unix_style & ~po::command_line_style::allow_guessing) |
                       po::command_line_style::allow_long_disguise;

constexpr std::string_view kArgsKey = "__args";

const po::option_description* find_flag(const po::options_description& flags, std::string_view name) {
  return flags.find_nothrow(std::string(name), /*approx=*/false);
}

bool takes_value(const po::option_description& d) { return d.semantic()->min_tokens() > 0; }
bool is_switch(const po::option_description& d) { return d.semantic()->max_tokens() == 0; }

// Looks up the flag a token names: "--bundle", "-b" or Go's "-bundle".
const po::option_description* lookup(const po::options_description& flags, std::string_view token) {
  if (token.size() > 2 && token[1] == '-') return find_flag(flags, token.substr(2));
  if (token.size() == 2) return find_flag(flags, token);  // Boost keys short names as "-b"
  return find_flag(flags, token.substr(1));
}

// Where the positional arguments start when flags may only precede them
// (the global options, exec, ps). A value-taking flag without an adjacent
// value consumes the next token. Unknown flags end the scan: Boost reports them.
std::size_t first_argument(const po::options_description& flags, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--" || a.size() < 2 || a[0] != '-') return i;
    if (a.find('=') != std::string::npos) continue;  // --flag=value
    if (const po::option_description* d = lookup(flags, a); d != nullptr) {
      if (takes_value(*d)) ++i;
      continue;
    }
    if (a[1] == '-' || a.size() == 2) return args.size();  // unknown: Boost reports it
    // A group of short flags (-dt); the last one may take the next token.
    for (std::size_t c = 1; c < a.size(); ++c) {
      const po::option_description* d = find_flag(flags, std::string{'-', a[c]});
      if (d == nullptr) return args.size();
      if (takes_value(*d)) {
        if (c + 1 == a.size()) ++i;
        break;  // the rest of the token is the value
      }
    }
  }
  return args.size();
}

// strconv.ParseBool: what Go accepts after `--flag=`.
std::optional<bool> parse_go_bool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

// Go's flag syntax where Boost's differs. Boost switches take no value, but
// Go lets `--detach=false` clear a flag: rewrite `--flag=true` to `--flag`
// and drop `--flag=false` (every runc boolean defaults to false). And Go
// reads `-b=dir` as `-b dir`.
std::vector<std::string> rewrite_go_syntax(const po::options_description& flags,
                                             std::vector<std::string> args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") {
      out.insert(out.end(), std::make_move_iterator(args.begin() + static_cast<std::ptrdiff_t>(i)),
                 std::make_move_iterator(args.end()));
      break;
    }
    const std::size_t eq = a.find('=');
    if (a.size() > 1 && a[0] == '-' && eq != std::string::npos) {
      const std::string_view name = std::string_view(a).substr(0, eq);
      const po::option_description* d = lookup(flags, name);
      if (d != nullptr && !is_switch(*d) && name.size() == 2) {
        // Go's `-b=dir`; Boost would read the value as "=dir".
        out.emplace_back(name);
        out.emplace_back(a.substr(eq + 1));
        continue;
      }
      if (d != nullptr && is_switch(*d)) {
        const std::string_view value = std::string_view(a).substr(eq + 1);
        const std::optional<bool> b = parse_go_bool(value);
        if (!b)
          throw Error(fmt::format("invalid value \"{}\" for flag {}: expected true or false", value, name));
        if (*b) out.emplace_back(name);
        continue;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

// Go's flag package lets a repeated flag override the earlier value
// (`--root a --root b` is b); Boost would refuse it. Repeatable flags
// (--env, --cap, ...) are composing and keep every occurrence.
void keep_last_occurrence(const po::options_description& flags, po::parsed_options& parsed) {
  std::vector<po::option>& opts = parsed.options;
  for (std::size_t i = opts.size(); i-- > 0;) {
    if (opts[i].string_key.empty() || opts[i].string_key == kArgsKey) continue;
    const po::option_description* d = find_flag(flags, opts[i].string_key);
    if (d == nullptr || d->semantic()->is_composing()) continue;
    for (std::size_t j = i; j-- > 0;) {
      if (opts[j].string_key == opts[i].string_key) {
        opts.erase(opts.begin() + static_cast<std::ptrdiff_t>(j));
        --i;
      }
    }
  }
}

// The name of the flag a Boost error is about, as the user typed it when known.
std::string flag_in_error(const po::error_with_option_name& e) {
  std::string name = e.get_option_name();
  return name.empty() ? std::string("(unknown)") : name;
}

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::string_view to_string(LogFormat f) noexcept { return f == LogFormat::Json ? "json" : "text"; }

std::string_view to_string(Rootless r) noexcept {
  switch (r) {
    case Rootless::True:
      return "true";
    case Rootless::False:
      return "false";
    case Rootless::Auto:
      break;
  }
  return "auto";
}

std::string default_root(bool* xdg) {
  if (xdg) *xdg = false;
  const std::string runtime_dir = env_or_empty("XDG_RUNTIME_DIR");
  if (runtime_dir.empty()) return std::string(kDefaultRoot);
  // runc's shouldHonorXDGRuntimeDir: real root keeps /run (its XDG_RUNTIME_DIR is /run/user/0);
  // root in a user namespace uses it unless it is root's own session ($USER=root).
  bool honor = ::geteuid() != 0;
  if (!honor && !ns::in_initial_user_ns()) {
    const char* user = std::getenv("USER");
    honor = user == nullptr || std::string_view(user) != "root";
  }
  if (!honor) return std::string(kDefaultRoot);
  if (xdg) *xdg = true;
  return runtime_dir + "/berth";
}

po::typed_value<bool>* flag(bool* target) { return po::bool_switch(target); }

ParsedLine parse_line(const po::options_description& flags, const std::vector<std::string>& args,
                      bool stop_at_first_arg) {
  ParsedLine line;
  std::vector<std::string> positional;
  po::options_description all;
  all.add(flags);
  all.add_options()("help,h", po::bool_switch(&line.help), "show help")(
      kArgsKey.data(), po::value<std::vector<std::string>>(&positional), "");
  po::positional_options_description pos;
  pos.add(kArgsKey.data(), -1);

  std::vector<std::string> flag_part = args;
  std::vector<std::string> trailing;
  if (stop_at_first_arg) {
    const std::size_t split = first_argument(all, args);
    flag_part.assign(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(split));
    auto rest = args.begin() + static_cast<std::ptrdiff_t>(split);
    if (rest != args.end() && *rest == "--") ++rest;
    trailing.assign(rest, args.end());
  }
  flag_part = rewrite_go_syntax(all, std::move(flag_part));

  po::variables_map vm;
  try {
    po::parsed_options parsed = po::command_line_parser(flag_part).options(all).positional(pos).style(kStyle).run();
    keep_last_occurrence(all, parsed);
    po::store(parsed, vm);
  } catch (const po::unknown_option& e) {
    throw Error(fmt::format("unknown flag {}", flag_in_error(e)));
  } catch (const po::invalid_command_line_syntax& e) {
    if (e.kind() == po::invalid_syntax::missing_parameter || e.kind() == po::invalid_syntax::empty_adjacent_parameter)
      throw Error(fmt::format("flag {} requires a value", flag_in_error(e)));
    if (e.kind() == po::invalid_syntax::extra_parameter)
      throw Error(fmt::format("flag {} does not take a value", flag_in_error(e)));
    throw Error(e.what());
  } catch (const po::error& e) {
    throw Error(e.what());
  }
  // Help wins over value errors (a notifier may reject a value), as in runc.
  if (auto it = vm.find("help"); it != vm.end() && !it->second.defaulted()) {
    line.help = true;
    return line;
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(e.what());
  }
  line.args = std::move(positional);
  line.args.insert(line.args.end(), std::make_move_iterator(trailing.begin()),
                   std::make_move_iterator(trailing.end()));
  return line;
}

std::optional<std::vector<std::string>> parse_command(const CommandInfo& info,
                                                      const po::options_description& flags,
                                                      const std::vector<std::string>& args) {
  ParsedLine line = parse_line(flags, args, info.stop_at_first_arg);
  if (line.help) {
    std::ostringstream out;
    print_command_help(out, info, flags);
    fmt::print("{}", out.str());
    return std::nullopt;
  }
  const std::size_t n = line.args.size();
  if (n < info.min_args || n > info.max_args) {
    if (info.max_args == 0)
      throw Error(fmt::format("accepts no arguments, got {}: \"{}\"", n, fmt::join(line.args, " ")));
    if (info.min_args == info.max_args)
      throw Error(fmt::format("requires exactly {}: {}", plural(info.min_args, "argument"), info.args_usage));
    if (info.max_args == kUnlimited)
      throw Error(fmt::format("requires at least {}: {}", plural(info.min_args, "argument"), info.args_usage));
    throw Error(fmt::format("requires {} {} {} arguments: {}", info.min_args,
                            info.max_args == info.min_args + 1 ? "or" : "to", info.max_args, info.args_usage));
  }
  return std::move(line.args);
}

std::string format_flags(const po::options_description& flags) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& d : flags.options()) {
    if (d->description().empty()) continue;  // hidden
    const char* value = takes_value(*d) ? " value" : "";
    std::string names = fmt::format("--{}{}", d->long_name(), value);
    const std::string short_name = d->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (short_name.size() == 2 && short_name[0] == '-') names += fmt::format(", {}{}", short_name, value);
    rows.emplace_back(std::move(names), d->description());
  }
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::string out;
  for (const auto& [names, text] : rows) out += fmt::format("   {:<{}}  {}\n", names, width, text);
  return out;
}

void print_command_help(std::ostream& out, const CommandInfo& info, const po::options_description& flags) {
  const bool has_flags = !flags.options().empty();
  out << fmt::format("NAME:\n   berth {} - {}\n\nUSAGE:\n   berth {}{}{}\n", info.name, info.summary, info.name,
                     has_flags ? " [command options]" : "",
                     info.args_usage.empty() ? std::string() : " " + std::string(info.args_usage));
  if (!info.description.empty()) {
    out << "\nDESCRIPTION:\n";
    std::istringstream lines{std::string(info.description)};
    for (std::string l; std::getline(lines, l);) out << (l.empty() ? "" : "   ") << l << '\n';
  }
  if (has_flags) out << "\nOPTIONS:\n" << format_flags(flags);
}

std::uint64_t parse_uint(std::string_view flag_name, std::string_view text, std::uint64_t max) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > max)
    throw Error(fmt::format("invalid value \"{}\" for flag --{}: expected an integer from 0 to {}", text,
                            flag_name, max));
  return v;
}

std::int64_t parse_int(std::string_view flag_name, std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
    throw Error(fmt::format("invalid value \"{}\" for flag --{}: expected an integer from {} to {}", text,
                            flag_name, min, max));
  return v;
}

std::chrono::nanoseconds parse_duration(std::string_view flag_name, std::string_view text) {
  const auto invalid = [&] {
    return Error(fmt::format("invalid value \"{}\" for flag --{}: expected a duration such as 5s, 300ms or 1m30s",
                             text, flag_name));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) throw invalid();
  constexpr std::pair<std::string_view, long double> kUnits[] = {
      {"ns", 1.0L}, {"us", 1e3L}, {"\u00b5s", 1e3L}, {"\u03bcs", 1e3L},
      {"ms", 1e6L}, {"s", 1e9L},  {"m", 60e9L},      {"h", 3600e9L},
  };
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double number = 0;
    bool digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) number = number * 10 + (s[i] - '0');
    if (i < s.size() && s[i] == '.') {
      long double scale = 0.1L;
      for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10, digits = true)
        number += (s[i] - '0') * scale;
    }
    if (!digits) throw invalid();
    s.remove_prefix(i);
    std::size_t unit_len = 0;
    while (unit_len < s.size() && !(s[unit_len] >= '0' && s[unit_len] <= '9') && s[unit_len] != '.') ++unit_len;
    const std::string_view unit = s.substr(0, unit_len);
    long double scale = 0;
    for (const auto& [name, ns] : kUnits)
      if (name == unit) scale = ns;
    if (scale == 0) throw invalid();
    total += number * scale;
    s.remove_prefix(unit_len);
  }
  if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) throw invalid();
  const auto ns = static_cast<std::int64_t>(total);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

std::int64_t parse_bytes(std::string_view flag_name, std::string_view text) {
  if (text == "-1") return -1;
  const auto invalid = [&] {
    return Error(fmt::format("invalid value \"{}\" for flag --{}: expected a size in bytes such as 4096, 512m or 1g",
                             text, flag_name));
  };
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) throw invalid();
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) throw invalid();
  }
  const std::string number(text.substr(0, i));
  std::string_view suffix = text.substr(i);
  if (!suffix.empty() && suffix[0] == ' ') suffix.remove_prefix(1);
  long double multiplier = 1;
  if (!suffix.empty()) {
    constexpr std::string_view kUnits = "kmgtp";
    const auto pos = kUnits.find(static_cast<char>(suffix[0] | 0x20));
    if (pos != std::string_view::npos) {
      multiplier = std::pow(1024.0L, static_cast<long double>(pos + 1));
      suffix.remove_prefix(1);
    }
  }
  if (!suffix.empty() && (suffix[0] == 'i' || suffix[0] == 'I')) suffix.remove_prefix(1);
  if (!suffix.empty() && (suffix[0] == 'b' || suffix[0] == 'B')) suffix.remove_prefix(1);
  if (!suffix.empty()) throw invalid();
  const long double value = std::strtold(number.c_str(), nullptr) * multiplier;
  if (value >= static_cast<long double>(std::numeric_limits<std::int64_t>::max())) throw invalid();
  return static_cast<std::int64_t>(value);
}

std::string current_dir() {
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr) throw_errno("getcwd");
  return buf;
}

int listen_fds_from_env() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr) return 0;
  char* end = nullptr;
  const long p = std::strtol(pid, &end, 10);
  if (*end != '\0' || p != ::getpid()) return 0;
  const long n = std::strtol(fds, &end, 10);
  if (*end != '\0' || n <= 0 || n > 65536) return 0;
  return static_cast<int>(n);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace berth::cmd
