#include "http/client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <mutex>

#include "core/log.h"
#include "http/url.h"

namespace hfm::http {
namespace {

std::once_flag g_curl_init;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

Error transport_error(CURLcode code, const char* detail, const std::string& url) {
  ErrorCode ec = ErrorCode::kNetwork;
  if (code == CURLE_OPERATION_TIMEDOUT) ec = ErrorCode::kTimeout;
  if (code == CURLE_SSL_CACERT_BADFILE || code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM)
    ec = ErrorCode::kConfig;
  std::string what = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
  return make_error(ec, fmt::format("{} ({})", what, redact_url(url)));
}

}  // namespace

struct Client::Transfer {
  Request request;
  Callback done;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Response response;
  bool headers_delivered = false;
  bool deliver_to_sink = false;
  std::optional<Error> abort_error;  // set by a callback that aborted the transfer
  char error_buffer[CURL_ERROR_SIZE] = {};
  ClientStats* stats = nullptr;
  size_t upload_offset = 0;  // into the request body, per attempt

  ~Transfer() { release_handle(); }
  void release_handle() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
    header_list = nullptr;
    if (easy != nullptr) curl_easy_cleanup(easy);
    easy = nullptr;
  }

  // Runs once per attempt, when the first body byte arrives or at completion.
  bool deliver_headers() {
    if (headers_delivered) return true;
    headers_delivered = true;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    response.status = static_cast<int>(code);
    // Error bodies are collected for messages, never fed to a data sink.
    deliver_to_sink = request.on_body && response.status >= 200 && response.status < 300;
    if (request.on_headers && response.status >= 200 && response.status < 300) {
      if (!request.on_headers(response)) {
        if (!abort_error) abort_error = make_error(ErrorCode::kProtocol, "response rejected by receiver");
        return false;
      }
    }
    return true;
  }

  static size_t on_header(char* data, size_t size, size_t nitems, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t len = size * nitems;
    std::string_view line(data, len);
    if (line.substr(0, 5) == "HTTP/") {
      t->response.headers.clear();  // a new status line (e.g. after 100 Continue)
      return len;
    }
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      t->response.headers.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return len;
  }

  std::span<const char> upload_body() const {
    if (request.body_view) return *request.body_view;
    return {request.body.data(), request.body.size()};
  }

  static size_t on_read(char* buffer, size_t size, size_t nitems, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const auto body = t->upload_body();
    const size_t n = std::min(size * nitems, body.size() - t->upload_offset);
    std::memcpy(buffer, body.data() + t->upload_offset, n);
    t->upload_offset += n;
    return n;
  }

  static size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t len = size * nmemb;
    if (!t->deliver_headers()) return 0;
    t->response.body_bytes += len;
    t->stats->bytes_received.fetch_add(len, std::memory_order_relaxed);
    if (t->deliver_to_sink) {
      if (!t->request.on_body({data, len})) {
        if (!t->abort_error) t->abort_error = make_error(ErrorCode::kProtocol, "body rejected by receiver");
        return 0;
      }
      return len;
    }
    if (t->response.body.size() + len > t->request.max_body_bytes) {
      t->abort_error =
          make_error(ErrorCode::kProtocol, fmt::format("response body larger than {} bytes from {}",
                                                       t->request.max_body_bytes, redact_url(t->request.url)));
      return 0;
    }
    t->response.body.append(data, len);
    return len;
  }
};

Client::Client(ClientSettings settings) : settings_(std::move(settings)), budget_(settings_.retry.budget) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  rng_on_io_.seed(settings_.jitter_seed != 0 ? settings_.jitter_seed : std::random_device{}());
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings_.max_total_connections);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, settings_.max_total_connections);
  multi_ = multi;
  io_thread_ = std::thread([this] { loop_on_io(); });
}

Client::~Client() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_locked_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  io_thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void Client::submit(Request request, Callback done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  t->stats = &stats_;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_locked_) {
      lock.unlock();
      t->done(unexpected(ErrorCode::kCancelled, "client is shutting down"));
      return;
    }
    incoming_locked_.push_back(std::move(t));
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

Result<Response> Client::perform(Request request) {
  std::promise<Result<Response>> promise;
  auto future = promise.get_future();
  submit(std::move(request), [&promise](Result<Response> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void Client::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_requested_locked_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

long Client::poll_timeout_ms_on_io() const {
  long timeout = 1000;
  if (!timers_on_io_.empty()) {
    const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(timers_on_io_.top().when -
                                                                             std::chrono::steady_clock::now());
    timeout = std::clamp<long>(static_cast<long>(delta.count()), 0, timeout);
  }
  return timeout;
}

void Client::loop_on_io() {
  auto* multi = static_cast<CURLM*>(multi_);
  while (true) {
    bool stopping = false;
    bool cancel = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_locked_;
      cancel = cancel_requested_locked_;
      cancel_requested_locked_ = false;
    }
    if (cancel || stopping) cancel_all_on_io();
    if (stopping) break;
    drain_incoming_on_io();
    fire_timers_on_io();

    int still_running = 0;
    curl_multi_perform(multi, &still_running);
    int msgs_left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &msgs_left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      complete_on_io(t, static_cast<int>(msg->data.result));
    }
    int numfds = 0;
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(poll_timeout_ms_on_io()), &numfds);
  }
}

void Client::drain_incoming_on_io() {
  std::deque<std::unique_ptr<Transfer>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(incoming_locked_);
  }
  for (auto& t : batch) start_attempt_on_io(std::move(t));
}

void Client::fire_timers_on_io() {
  const auto now = std::chrono::steady_clock::now();
  while (!timers_on_io_.empty() && timers_on_io_.top().when <= now) {
    auto t = std::move(timers_on_io_.top().transfer);
    timers_on_io_.pop();
    start_attempt_on_io(std::move(t));
  }
}

void Client::cancel_all_on_io() {
  auto* multi = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> victims;
  for (auto& t : running_on_io_) {
    curl_multi_remove_handle(multi, t->easy);
    victims.push_back(std::move(t));
  }
  running_on_io_.clear();
  while (!timers_on_io_.empty()) {
    victims.push_back(std::move(timers_on_io_.top().transfer));
    timers_on_io_.pop();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : incoming_locked_) victims.push_back(std::move(t));
    incoming_locked_.clear();
  }
  for (auto& t : victims) finish_on_io(std::move(t), unexpected(ErrorCode::kCancelled, "cancelled"));
}

void Client::start_attempt_on_io(std::unique_ptr<Transfer> t) {
  if (!paused_until_on_io_.empty()) {
    if (auto url = parse_url(t->request.url)) {
      const auto it = paused_until_on_io_.find(url->origin());
      if (it != paused_until_on_io_.end()) {
        if (std::chrono::steady_clock::now() < it->second) {
          const auto when = it->second;
          timers_on_io_.push(Timer{when, timer_seq_on_io_++, std::move(t)});
          return;
        }
        paused_until_on_io_.erase(it);
      }
    }
  }
  t->release_handle();
  const int attempts = t->response.attempts;  // survives the reset below
  t->response = Response{};
  t->response.attempts = attempts;
  t->response.url = t->request.url;
  t->headers_delivered = false;
  t->deliver_to_sink = false;
  t->abort_error.reset();
  t->error_buffer[0] = '\0';
  t->upload_offset = 0;
  if (t->request.on_attempt) t->request.on_attempt();
  if (t->request.before_send) t->request.before_send(t->request);

  const Request& r = t->request;
  CURL* easy = curl_easy_init();
  t->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error_buffer);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are the caller's policy
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeouts.connect.count()));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(r.timeouts.low_speed_bytes_per_second));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(r.timeouts.low_speed_window.count()));
  if (r.timeouts.total.count() > 0)
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeouts.total.count()));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!settings_.user_agent.empty()) curl_easy_setopt(easy, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  if (!settings_.ca_bundle.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  if (settings_.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (r.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (r.method == "POST" || r.method == "PUT") {
    // The body streams from the request (no copy), for POST and PUT alike.
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Transfer::on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t->upload_body().size()));
    if (r.method == "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (r.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  curl_slist* list = nullptr;
  for (const auto& [name, value] : r.headers.items()) {
    list = curl_slist_append(list, fmt::format("{}: {}", name, value).c_str());
  }
  if (r.bearer && !r.bearer->empty()) {
    list = curl_slist_append(list, ("Authorization: Bearer " + r.bearer->reveal()).c_str());
  }
  if (r.identity_encoding) list = curl_slist_append(list, "Accept-Encoding: identity");
  if (r.range) {
    list = curl_slist_append(list, fmt::format("Range: bytes={}-{}", r.range->first, r.range->last).c_str());
  }
  list = curl_slist_append(list, "Expect:");
  t->header_list = list;
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

  t->response.attempts += 1;
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  log::trace("http.start tag={} method={} url={}", r.log_tag, r.method, redact_url(r.url));
  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  running_on_io_.push_back(std::move(t));
}

void Client::complete_on_io(Transfer* raw, int curl_code) {
  auto it = std::find_if(running_on_io_.begin(), running_on_io_.end(), [raw](const auto& p) { return p.get() == raw; });
  if (it == running_on_io_.end()) return;
  std::unique_ptr<Transfer> t = std::move(*it);
  running_on_io_.erase(it);
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);

  const auto code = static_cast<CURLcode>(curl_code);
  if (code == CURLE_OK) t->deliver_headers();

  std::optional<Error> failure;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> server_delay;
  if (t->abort_error) {
    failure = *t->abort_error;
    retryable = failure->retryable();
  } else if (code != CURLE_OK) {
    failure = transport_error(code, t->error_buffer, t->request.url);
    retryable = failure->retryable();
  } else if (t->request.retry && is_retryable_status(t->response.status)) {
    retryable = true;
    server_delay = server_requested_delay(t->response, std::chrono::system_clock::now());
    if (t->response.status == 429 && server_delay) {
      if (auto url = parse_url(t->request.url)) {
        auto& until = paused_until_on_io_[url->origin()];
        until = std::max(until, std::chrono::steady_clock::now() + *server_delay);
      }
    }
  }

  const bool may_retry = retryable && t->request.retry && t->response.attempts < settings_.retry.max_attempts;
  if (may_retry && budget_.try_take()) {
    const auto delay = backoff_delay(settings_.retry, t->response.attempts, server_delay, rng_on_io_);
    stats_.retries.fetch_add(1, std::memory_order_relaxed);
    log::info("http.retry tag={} url={} attempt={} status={} reason=\"{}\" delay_ms={}", t->request.log_tag,
              redact_url(t->request.url), t->response.attempts, t->response.status,
              failure ? failure->message : fmt::format("HTTP {}", t->response.status), delay.count());
    t->release_handle();
    timers_on_io_.push(Timer{std::chrono::steady_clock::now() + delay, timer_seq_on_io_++, std::move(t)});
    return;
  }
  if (retryable && t->request.retry && t->response.attempts < settings_.retry.max_attempts) {
    log::warn("http.retry_budget_exhausted tag={} url={}", t->request.log_tag, redact_url(t->request.url));
  }
  if (failure) {
    if (retryable && t->response.attempts > 1) {
      failure->message += fmt::format(" after {} attempts", t->response.attempts);
    }
    finish_on_io(std::move(t), unexpected(std::move(*failure)));
    return;
  }
  if (t->response.status < 400) budget_.on_success();
  log::debug("http.done tag={} method={} url={} status={} bytes={} attempts={}", t->request.log_tag, t->request.method,
             redact_url(t->request.url), t->response.status, t->response.body_bytes, t->response.attempts);
  Response response = std::move(t->response);
  finish_on_io(std::move(t), std::move(response));
}

void Client::finish_on_io(std::unique_ptr<Transfer> t, Result<Response> result) {
  t->release_handle();
  Callback done = std::move(t->done);
  t.reset();
  done(std::move(result));
}

}  // namespace hfm::http
