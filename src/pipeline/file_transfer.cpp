#include "pipeline/file_transfer.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "core/hash.h"
#include "core/log.h"
#include "http/url.h"
#include "pipeline/buffer_pool.h"
#include "pipeline/worker_pool.h"

namespace hfm::pipeline {

size_t TransferSettings::buffer_count() const {
  const uint64_t n = part_size_bytes == 0 ? 0 : memory_budget_bytes / part_size_bytes;
  return static_cast<size_t>(std::max<uint64_t>(n, 2));
}

namespace {

enum class PartState { kTodo, kFetching, kReady, kHashed };

struct Part {
  uint64_t offset = 0;
  uint64_t length = 0;
  PartState state = PartState::kTodo;
  std::optional<size_t> buffer;
  bool written = false;    // durable at the destination
  bool from_disk = false;  // resumed: read back, not downloaded
  int attempts = 0;
};

enum class Phase { kQueued, kResolving, kTransferring, kFinishing, kDone, kFailed };

// Receives one part's body into its buffer. Lives until the request ends.
struct PartSink {
  char* dst = nullptr;
  uint64_t part_offset = 0;
  uint64_t length = 0;
  uint64_t file_size = 0;
  bool ranged = true;
  uint64_t filled = 0;
  uint64_t skip = 0;       // bytes to drop when a server ignored Range
  bool satisfied = false;  // got everything from a 200 that ignored Range
  std::optional<Error> error;
};

bool parse_content_range(std::string_view v, uint64_t* first, uint64_t* last, uint64_t* total) {
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  const size_t dash = v.find('-');
  const size_t slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return false;
  auto num = [](std::string_view s, uint64_t* out) {
    if (s.empty()) return false;
    uint64_t x = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      x = x * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = x;
    return true;
  };
  return num(v.substr(0, dash), first) && num(v.substr(dash + 1, slash - dash - 1), last) &&
         num(v.substr(slash + 1), total);
}

}  // namespace

struct TransferEngine::Impl {
  struct FileRun {
    FileJob job;
    Phase phase = Phase::kQueued;
    hub::FileLocation location;
    bool direct = false;  // small regular file: one GET on the resolve URL, no HEAD
    std::unique_ptr<store::PartialFile> partial;
    std::vector<Part> parts;
    size_t next_start = 0;
    std::deque<size_t> restart;             // parts holding a buffer, to fetch again
    std::vector<size_t> awaiting_location;  // parts parked while re-resolving
    size_t next_hash = 0;
    bool hash_busy = false;
    std::unique_ptr<ContentHasher> hasher;
    size_t requests_in_flight = 0;
    size_t tasks_in_flight = 0;
    int resolves = 0;
    std::optional<Error> error;
    uint64_t bytes_downloaded = 0;
    bool small = false;                         // one part: admitted by the request limit, not --parallel-files
    bool hold_buffers = false;                  // one-part file whose bytes go to commit()
    bool track_progress = false;                // keep hash states for resume points
    std::map<size_t, std::string> hash_states;  // parts hashed -> hash state after them
    size_t progress_recorded = 0;
  };

  http::Client& http;
  hub::HubClient& hub;
  store::Destination& dest;
  hub::RepoRef repo;
  std::string commit;
  TransferSettings settings;
  Progress& progress;
  const std::atomic<bool>& cancel_flag;

  BufferPool pool;
  std::vector<std::unique_ptr<FileRun>> files;
  size_t next_file = 0;
  size_t active_files = 0;        // multi-part files being resolved or transferred
  size_t active_small_files = 0;  // one-part files in flight
  size_t requests_in_flight = 0;
  std::optional<Error> fatal;
  bool cancel_sent = false;
  TransferReport report;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> events_locked;

  WorkerPool workers;  // last: joined (draining its tasks) before the rest dies

  Impl(http::Client& h, hub::HubClient& hb, store::Destination& d, hub::RepoRef r, std::string c, TransferSettings s,
       Progress& p, const std::atomic<bool>& cf)
      : http(h),
        hub(hb),
        dest(d),
        repo(std::move(r)),
        commit(std::move(c)),
        settings(s),
        progress(p),
        cancel_flag(cf),
        pool(s.buffer_count(), s.part_size_bytes),
        workers(s.worker_threads) {}

  // Any thread: queue work for the scheduler thread.
  void post(std::function<void()> fn) {
    // Notify under the lock: once the scheduler sees the last event it may
    // return and destroy this object, cv included (found by TSan).
    std::lock_guard<std::mutex> lock(mu);
    events_locked.push_back(std::move(fn));
    cv.notify_one();
  }

  void run_on_worker(FileRun* f, std::function<void()> task) {
    f->tasks_in_flight++;
    workers.post(std::move(task));
  }

  bool stopping() const { return fatal.has_value(); }

  // ---- scheduling (scheduler thread only) ----

  void schedule() {
    if (cancel_flag.load() && !fatal) {
      fatal = make_error(ErrorCode::kCancelled, "interrupted");
    }
    if (fatal && !cancel_sent) {
      cancel_sent = true;
      http.cancel_all();
    }
    if (stopping()) {
      for (auto& f : files) {
        if (f->phase == Phase::kDone || f->phase == Phase::kFailed || f->phase == Phase::kFinishing) continue;
        if (!f->error) {
          fail_file(*f, *fatal);
        } else {
          maybe_retire(*f);
        }
      }
      return;
    }
    // Large files count against --parallel-files; small (one-part) files only
    // against the request limit, so thousands of them are not latency-bound.
    while (next_file < files.size()) {
      FileRun& f = *files[next_file];
      f.small = f.job.spec.size_bytes <= settings.part_size_bytes;
      const bool room =
          f.small ? active_small_files < settings.max_parallel_requests : active_files < settings.max_parallel_files;
      if (!room) break;
      ++next_file;
      activate(f);
    }
    for (auto& fp : files) {
      FileRun& f = *fp;
      if (f.phase != Phase::kTransferring || f.error) continue;
      while (requests_in_flight < settings.max_parallel_requests) {
        if (!f.restart.empty()) {
          const size_t i = f.restart.front();
          f.restart.pop_front();
          start_part(f, i);
          continue;
        }
        if (f.next_start >= f.parts.size()) break;
        const auto buffer = pool.try_acquire();
        if (!buffer) return;
        const size_t i = f.next_start++;
        f.parts[i].buffer = *buffer;
        start_part(f, i);
      }
    }
  }

  void activate(FileRun& f) {
    (f.small ? active_small_files : active_files)++;
    const auto& spec = f.job.spec;
    auto partial = dest.open_partial(spec, settings.part_size_bytes);
    if (!partial) {
      fail_file(f, partial.error());
      return;
    }
    f.partial = std::move(*partial);
    f.hasher = std::make_unique<ContentHasher>(spec.id_kind, spec.size_bytes);
    f.hold_buffers = f.partial->wants_bytes_at_commit() && spec.size_bytes <= settings.part_size_bytes;
    f.track_progress = f.partial->wants_progress();
    const store::ResumeInfo resume = f.partial->resume_info();
    // Parts already durable and hashed by an earlier run need neither bytes nor a request.
    size_t hashed = 0;
    if (resume.hashed_parts > 0) {
      if (auto restored = ContentHasher::restore(spec.id_kind, resume.hash_state)) {
        *f.hasher = std::move(*restored);
        hashed = resume.hashed_parts;
      }
    }
    const auto& readable = resume.readable_parts;
    for (uint64_t off = 0, i = 0; off < spec.size_bytes; off += settings.part_size_bytes, ++i) {
      Part p;
      p.offset = off;
      p.length = std::min(settings.part_size_bytes, spec.size_bytes - off);
      if (i < hashed) {
        p.state = PartState::kHashed;
        p.written = true;
      } else {
        p.from_disk = i < readable.size() && readable[i];
        p.written = p.from_disk;
      }
      if (i < hashed || p.from_disk) {
        progress.bytes_reused += p.length;
        report.bytes_reused += p.length;
      }
      f.parts.push_back(p);
    }
    f.next_hash = std::min(hashed, f.parts.size());
    f.next_start = f.next_hash;
    f.progress_recorded = f.next_hash;
    if (f.next_hash > 0) progress.bytes_done += std::min(spec.size_bytes, f.next_hash * settings.part_size_bytes);
    if (spec.size_bytes == 0) {
      f.phase = Phase::kTransferring;
      maybe_finish(f);
      return;
    }
    bool all_local = std::all_of(f.parts.begin(), f.parts.end(),
                                 [](const Part& p) { return p.from_disk || p.state == PartState::kHashed; });
    if (!f.job.lfs && f.parts.size() == 1 && !all_local) {
      // Small regular file: its bytes come with the resolve answer itself.
      f.direct = true;
      f.location.data_url = hub.resolve_url(repo, commit, spec.path);
      f.location.send_token = true;
      f.location.size_bytes = spec.size_bytes;
      f.phase = Phase::kTransferring;
      return;
    }
    if (all_local) {
      f.phase = Phase::kTransferring;  // nothing to download: re-hash what is on disk
      maybe_finish(f);                 // or nothing at all: every part was hashed by an earlier run
      return;
    }
    resolve(f);
  }

  void resolve(FileRun& f) {
    f.phase = Phase::kResolving;
    f.resolves++;
    f.requests_in_flight++;
    requests_in_flight++;
    hub.head_resolve(repo, commit, f.job.spec.path, [this, fp = &f](Result<hub::FileLocation> r) {
      post([this, fp, r = std::move(r)]() mutable { on_resolved(*fp, std::move(r)); });
    });
  }

  void on_resolved(FileRun& f, Result<hub::FileLocation> r) {
    f.requests_in_flight--;
    requests_in_flight--;
    const auto& spec = f.job.spec;
    if (!r) {
      fail_file(f, r.error());
      return;
    }
    if (r->etag != spec.content_id || r->size_bytes != spec.size_bytes) {
      fail_file(f, make_error(ErrorCode::kProtocol,
                              fmt::format("the Hub's resolve answer for '{}' (etag {}, {} bytes) disagrees with its "
                                          "file list (content id {}, {} bytes)",
                                          spec.path, r->etag, r->size_bytes, spec.content_id, spec.size_bytes)));
      return;
    }
    if (r->commit != commit) {
      fail_file(f, make_error(ErrorCode::kProtocol, fmt::format("resolve for '{}' answered commit {} instead of {}",
                                                                spec.path, r->commit, commit)));
      return;
    }
    f.location = std::move(*r);
    f.phase = Phase::kTransferring;
    for (size_t i : f.awaiting_location) f.restart.push_back(i);
    f.awaiting_location.clear();
  }

  void start_part(FileRun& f, size_t i) {
    Part& p = f.parts[i];
    p.state = PartState::kFetching;
    p.attempts++;
    char* dst = pool.data(*p.buffer);
    if (p.from_disk) {
      run_on_worker(&f, [this, fp = &f, i, dst, offset = p.offset, len = p.length] {
        Status st = fp->partial->read_part(offset, {dst, static_cast<size_t>(len)});
        post([this, fp, i, st = std::move(st)]() mutable {
          fp->tasks_in_flight--;
          on_part_read_back(*fp, i, std::move(st));
        });
      });
      return;
    }
    auto sink = std::make_shared<PartSink>();
    sink->dst = dst;
    sink->part_offset = p.offset;
    sink->length = p.length;
    sink->file_size = f.job.spec.size_bytes;
    sink->ranged = !f.direct;

    http::Request req;
    req.url = f.location.data_url;
    req.log_tag = f.direct ? "hub.file" : "cdn.part";
    if (sink->ranged) req.range = http::ByteRange{p.offset, p.offset + p.length - 1};
    req.on_attempt = [sink] {
      sink->filled = 0;
      sink->skip = 0;
      sink->satisfied = false;
      sink->error.reset();
    };
    req.on_headers = [sink](const http::Response& head) {
      if (head.status == 206) {
        uint64_t first = 0, last = 0, total = 0;
        const auto cr = head.headers.get("content-range");
        if (!cr || !parse_content_range(*cr, &first, &last, &total) || first != sink->part_offset ||
            last != sink->part_offset + sink->length - 1 || total != sink->file_size) {
          sink->error = make_error(ErrorCode::kProtocol,
                                   fmt::format("unexpected Content-Range '{}' for bytes {}-{}", cr.value_or(""),
                                               sink->part_offset, sink->part_offset + sink->length - 1));
          return false;
        }
      } else if (sink->ranged) {
        // The server ignored Range and sends the whole file: keep only our slice.
        sink->skip = sink->part_offset;
      }
      return true;
    };
    req.on_body = [sink](std::span<const char> bytes) {
      size_t pos = 0;
      if (sink->skip > 0) {
        const auto drop = static_cast<size_t>(std::min<uint64_t>(sink->skip, bytes.size()));
        sink->skip -= drop;
        pos = drop;
      }
      const uint64_t room = sink->length - sink->filled;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(room, bytes.size() - pos));
      std::memcpy(sink->dst + sink->filled, bytes.data() + pos, n);
      sink->filled += n;
      if (pos + n < bytes.size()) {
        if (sink->ranged && sink->filled == sink->length) {
          sink->satisfied = true;  // rest of an ignored-Range body: not needed
        } else {
          sink->error = make_error(ErrorCode::kIntegrity, "server sent more bytes than the file's size");
        }
        return false;
      }
      return true;
    };
    f.requests_in_flight++;
    requests_in_flight++;
    hub.get_data(std::move(req), f.location.send_token, [this, fp = &f, i, sink](Result<http::Response> r) {
      post([this, fp, i, sink, r = std::move(r)]() mutable { on_part_fetched(*fp, i, *sink, std::move(r)); });
    });
  }

  void on_part_read_back(FileRun& f, size_t i, Status st) {
    if (!st) {
      fail_file(f, st.error());
      return;
    }
    part_ready(f, i);
  }

  void on_part_fetched(FileRun& f, size_t i, const PartSink& sink, Result<http::Response> r) {
    f.requests_in_flight--;
    requests_in_flight--;
    Part& p = f.parts[i];
    std::optional<Error> err;
    bool reresolve = false;
    if (sink.satisfied) {
      // complete: an ignored Range was cut short on purpose
    } else if (sink.error) {
      err = sink.error;
    } else if (!r) {
      err = r.error();
    } else if (r->status < 200 || r->status >= 300) {
      auto url = http::parse_url(r->url);
      const bool on_hub = url && http::same_origin(*url, hub.origin());
      if (on_hub) {
        err = hub.hub_error(*r, fmt::format("'{}' in {}", f.job.spec.path, repo.display()));
      } else {
        err = make_error(ErrorCode::kHttpStatus,
                         fmt::format("CDN answered HTTP {} for '{}'", r->status, f.job.spec.path));
        err->http_status = r->status;
        // Signed CDN URLs expire (about an hour): get a fresh one from the Hub.
        reresolve = r->status == 401 || r->status == 403 || r->status == 410;
      }
    } else if (sink.filled != sink.length) {
      err = make_error(ErrorCode::kNetwork,
                       fmt::format("short body for '{}': {} of {} bytes", f.job.spec.path, sink.filled, sink.length));
    }
    if (err) {
      if (f.error || stopping()) {
        fail_file(f, *err);
        return;
      }
      const bool may_retry = (err->retryable() || reresolve || err->code == ErrorCode::kProtocol) &&
                             err->code != ErrorCode::kCancelled && p.attempts < settings.max_part_attempts;
      if (!may_retry) {
        fail_file(f, *err);
        return;
      }
      log::info("transfer.part_retry path={} part={} attempt={} reason=\"{}\"", f.job.spec.path, i, p.attempts,
                err->describe());
      p.state = PartState::kTodo;
      if (reresolve && !f.direct) {
        f.awaiting_location.push_back(i);
        if (f.phase != Phase::kResolving) resolve(f);
      } else {
        f.restart.push_back(i);
      }
      return;
    }
    f.bytes_downloaded += p.length;
    report.bytes_downloaded += p.length;
    progress.bytes_done += p.length;
    if (f.hold_buffers) {
      p.written = true;  // its bytes go to commit() instead
    } else {
      // Write at its offset in parallel with hashing; the buffer returns to
      // the pool when both are done.
      run_on_worker(&f, [this, fp = &f, i, data = pool.data(*p.buffer), offset = p.offset, len = p.length] {
        fp->partial->write_part(i, offset, {data, static_cast<size_t>(len)}, [this, fp, i](Status st) {
          post([this, fp, i, st = std::move(st)]() mutable {
            fp->tasks_in_flight--;
            on_part_written(*fp, i, std::move(st));
          });
        });
      });
    }
    part_ready(f, i);
  }

  void part_ready(FileRun& f, size_t i) {
    Part& p = f.parts[i];
    p.state = PartState::kReady;
    if (p.from_disk) progress.bytes_done += p.length;
    try_hash(f);
  }

  void on_part_written(FileRun& f, size_t i, Status st) {
    if (!st) {
      fail_file(f, st.error());
      return;
    }
    f.parts[i].written = true;
    maybe_release(f, i);
    maybe_record_progress(f);
    maybe_finish(f);
  }

  // Resume points for destinations that cannot read parts back (S3): the
  // hash state after the longest prefix of parts that are both hashed and
  // durable.
  void maybe_record_progress(FileRun& f) {
    if (!f.track_progress || f.error) return;
    size_t durable = f.progress_recorded;
    while (durable < f.next_hash && f.parts[durable].written) ++durable;
    if (durable <= f.progress_recorded) return;
    auto it = f.hash_states.find(durable);
    if (it == f.hash_states.end()) return;
    std::string state = it->second;
    f.hash_states.erase(f.hash_states.begin(), std::next(it));
    f.progress_recorded = durable;
    run_on_worker(&f, [this, fp = &f, durable, state = std::move(state)] {
      Status st = fp->partial->record_progress(durable, state);
      post([this, fp, st = std::move(st)] {
        fp->tasks_in_flight--;
        // Only a resume point was lost; the transfer itself goes on.
        if (!st)
          log::warn("transfer.progress_not_recorded path={} error=\"{}\"", fp->job.spec.path, st.error().message);
        maybe_finish(*fp);
      });
    });
  }

  void try_hash(FileRun& f) {
    if (f.hash_busy || f.error) return;
    std::vector<std::pair<const char*, size_t>> batch;
    size_t end = f.next_hash;
    while (end < f.parts.size() && f.parts[end].state == PartState::kReady) {
      batch.emplace_back(pool.data(*f.parts[end].buffer), static_cast<size_t>(f.parts[end].length));
      ++end;
    }
    if (batch.empty()) return;
    f.hash_busy = true;
    run_on_worker(&f, [this, fp = &f, batch = std::move(batch), start = f.next_hash, end] {
      std::vector<std::pair<size_t, std::string>> states;
      size_t index = start;
      for (const auto& [data, len] : batch) {
        fp->hasher->update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), len));
        ++index;
        if (fp->track_progress) states.emplace_back(index, fp->hasher->save_state());
      }
      post([this, fp, end, states = std::move(states)]() mutable {
        fp->tasks_in_flight--;
        for (auto& [k, s] : states) fp->hash_states[k] = std::move(s);
        on_hashed(*fp, end);
      });
    });
  }

  void on_hashed(FileRun& f, size_t end) {
    for (size_t i = f.next_hash; i < end; ++i) {
      f.parts[i].state = PartState::kHashed;
      maybe_release(f, i);
    }
    f.next_hash = end;
    f.hash_busy = false;
    maybe_record_progress(f);
    try_hash(f);
    maybe_finish(f);
  }

  void maybe_release(FileRun& f, size_t i) {
    Part& p = f.parts[i];
    if (p.buffer && p.state == PartState::kHashed && p.written && !f.hold_buffers) {
      pool.release(*p.buffer);
      p.buffer.reset();
    }
  }

  void maybe_finish(FileRun& f) {
    if (f.phase != Phase::kTransferring || f.error || f.hash_busy || f.tasks_in_flight > 0) return;
    if (f.next_hash != f.parts.size()) return;
    for (const Part& p : f.parts)
      if (!p.written) return;
    f.phase = Phase::kFinishing;
    std::span<const char> whole;
    if (f.hold_buffers && !f.parts.empty() && f.parts[0].buffer) {
      whole = {pool.data(*f.parts[0].buffer), static_cast<size_t>(f.parts[0].length)};
    }
    run_on_worker(&f, [this, fp = &f, whole] {
      const std::string digest = fp->hasher->finish_hex();
      const auto& spec = fp->job.spec;
      Status st;
      if (digest != spec.content_id) {
        st = make_error(ErrorCode::kIntegrity,
                        fmt::format("'{}' failed verification: expected {} {}, got {}", spec.path,
                                    spec.id_kind == store::ContentIdKind::kSha256 ? "sha256" : "git-sha1",
                                    spec.content_id, digest));
      } else {
        st = dest.record_pending(spec.path);
        if (st) st = fp->partial->commit(whole);
        if (st) st = dest.record_verified(spec);
      }
      post([this, fp, st = std::move(st)]() mutable {
        fp->tasks_in_flight--;
        on_finished(*fp, std::move(st));
      });
    });
  }

  void on_finished(FileRun& f, Status st) {
    if (!st) {
      fail_file(f, st.error());
      return;
    }
    f.phase = Phase::kDone;
    f.partial.reset();
    for (Part& p : f.parts) {
      if (p.buffer) pool.release(*p.buffer);
      p.buffer.reset();
    }
    (f.small ? active_small_files : active_files)--;
    report.files_ok++;
    progress.files_done++;
    log::info("transfer.file_done path={} bytes={} downloaded={}", f.job.spec.path, f.job.spec.size_bytes,
              f.bytes_downloaded);
  }

  void fail_file(FileRun& f, const Error& e) {
    if (!f.error) {
      f.error = e;
      // A run-wide error is reported once, not once per file.
      if (e.code != ErrorCode::kCancelled && !fatal) {
        log::error("transfer.file_failed path={} error=\"{}\"", f.job.spec.path, e.describe());
      }
      // Auth and existence problems hold for every file: stop the run.
      const bool run_wide = e.code == ErrorCode::kGated || e.code == ErrorCode::kUnauthorized ||
                            e.code == ErrorCode::kRepoNotFound || e.code == ErrorCode::kRevisionNotFound ||
                            e.code == ErrorCode::kCancelled || e.code == ErrorCode::kRateLimited;
      if (run_wide && !fatal) fatal = e;
    }
    maybe_retire(f);
  }

  // A failed file leaves once nothing of it is in flight.
  void maybe_retire(FileRun& f) {
    if (!f.error || f.phase == Phase::kFailed || f.phase == Phase::kDone) return;
    if (f.requests_in_flight > 0 || f.tasks_in_flight > 0) return;
    for (Part& p : f.parts) {
      if (p.buffer) {
        pool.release(*p.buffer);
        p.buffer.reset();
      }
    }
    if (f.partial) {
      // Keep partial bytes for a resume unless they are known bad.
      f.partial->abandon(f.error->code != ErrorCode::kIntegrity);
      f.partial.reset();
    }
    const bool was_active = f.phase != Phase::kQueued;
    f.phase = Phase::kFailed;
    if (was_active) (f.small ? active_small_files : active_files)--;
    progress.files_failed++;
    report.failures.push_back({f.job.spec.path, *f.error});
  }

  bool all_settled() const {
    return std::all_of(files.begin(), files.end(),
                       [](const auto& f) { return f->phase == Phase::kDone || f->phase == Phase::kFailed; });
  }

  TransferReport run(std::vector<FileJob> jobs) {
    for (auto& j : jobs) {
      auto f = std::make_unique<FileRun>();
      f->job = std::move(j);
      files.push_back(std::move(f));
    }
    while (true) {
      schedule();
      for (auto& f : files)
        if (f->error) maybe_retire(*f);
      if (all_settled()) break;
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(200), [this] { return !events_locked.empty(); });
        batch.swap(events_locked);
      }
      for (auto& ev : batch) ev();
    }
    report.fatal = fatal;
    return std::move(report);
  }
};

TransferEngine::TransferEngine(http::Client& http, hub::HubClient& hub, store::Destination& dest, hub::RepoRef repo,
                               std::string commit, TransferSettings settings, Progress& progress,
                               const std::atomic<bool>& cancel_flag)
    : impl_(std::make_unique<Impl>(http, hub, dest, std::move(repo), std::move(commit), settings, progress,
                                   cancel_flag)) {}

TransferEngine::~TransferEngine() = default;

TransferReport TransferEngine::run(std::vector<FileJob> jobs) { return impl_->run(std::move(jobs)); }

}  // namespace hfm::pipeline
