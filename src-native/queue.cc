// The SSPI call queue: asynchronous SSPI calls run on threads of the addon's own, not on libuv's pool.
//
// Why: libuv's pool (4 threads by default) also serves fs, dns.lookup, crypto and zlib for the whole
// process. An SSPI call can wait seconds on LSASS and a domain controller (NTLM pass-through, a KDC that
// does not answer), so a burst of them used to stall every file read and DNS lookup of the process and
// made legitimate callers wait behind the flood. Here they run on their own threads, and at most
// `maxQueue` calls wait for one: the next call is refused at once (a rejected promise, Error code
// ERR_SSPI_QUEUE_FULL, which an HTTP server turns into 503) instead of piling up.
//
// Shape: one process-wide pool (threads and a FIFO queue, shared by the main thread and every worker
// thread), and per environment (main thread, each worker) one delivery channel: a Node-API thread-safe
// function whose callback runs on that environment's JavaScript thread and settles the call's promise.
//
// Environment teardown (worker.terminate(), process.exit() in a worker): an env cleanup hook closes the
// channel. From then on a call of that environment is never delivered: a call still waiting in the queue
// is dropped without running, a running call ends on its queue thread, and either way the call object is
// destroyed there, which frees what it acquired (SspiCall's destructor contract). Calls already handed to
// the thread-safe function are destroyed by its teardown (its callback gets env == NULL). A settle that
// fails on a stopping JavaScript thread is dropped: never a reject after a failed resolve, nothing thrown
// out of the callback. What cannot be released without a running environment is the promise's
// napi_deferred (Node-API has no way to drop one unsettled): a few bytes per call cut off by a teardown.
#include "common.h"

#include <algorithm>
#include <deque>
#include <mutex>

namespace sspi {

namespace {

// Windows' own condition variable over SlimLock (common.h), what libuv's pool uses too, not
// std::condition_variable: with MinGW's posix thread model that goes through winpthread, whose condition
// variable made each queued call's hand-over several times slower.
class Condition {
 public:
  Condition() = default;
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  // Waits with `lock` held (released while waiting, held again on return).
  void Wait(SlimLock& lock) { SleepConditionVariableSRW(&cv_, lock.get(), INFINITE, 0); }
  void WakeOne() { WakeConditionVariable(&cv_); }
  void WakeAll() { WakeAllConditionVariable(&cv_); }

 private:
  CONDITION_VARIABLE cv_ = CONDITION_VARIABLE_INIT;
};

}  // namespace

// One environment's delivery channel. `closed` and `tsfn` are guarded by `mutex`; once `closed` is set
// (by the env cleanup hook, on the JavaScript thread) no thread touches `tsfn` again, since Node-API frees
// it during the same teardown. `pending` is used only on the JavaScript thread.
struct Channel {
  SlimLock mutex;
  bool closed = false;
  napi_threadsafe_function tsfn = nullptr;
  size_t pending = 0;  // calls submitted and not yet delivered: the event loop is kept alive while > 0
};

namespace {

// Defaults: see lib/queue.ts (configureQueue) for why these values.
constexpr uint32_t kDefaultThreads = 4;
constexpr uint32_t kDefaultMaxQueue = 256;
constexpr uint32_t kMaxThreads = 256;
constexpr uint32_t kMaxMaxQueue = 1000000;

const char kQueueFullCode[] = "ERR_SSPI_QUEUE_FULL";

struct Job {
  std::unique_ptr<SspiCall> call;
  std::shared_ptr<Channel> channel;
  napi_deferred deferred = nullptr;
  bool failed = false;  // Execute() threw (out of memory): rejected with an Error on delivery
};

bool ChannelClosed(Channel& channel) {
  std::lock_guard<SlimLock> lock(channel.mutex);
  return channel.closed;
}

// Hands a finished job to its environment's JavaScript thread, or destroys it (freeing what the call
// acquired) when that environment is gone. Any thread.
void Deliver(Job* job) {
  Channel& channel = *job->channel;
  {
    std::lock_guard<SlimLock> lock(channel.mutex);
    if (!channel.closed && napi_call_threadsafe_function(channel.tsfn, job, napi_tsfn_nonblocking) == napi_ok) return;
  }
  delete job;
}

class Pool {
 public:
  enum class Submitted { kQueued, kFull, kFailed };

  Submitted Submit(Job* job) {
    std::unique_lock<SlimLock> lock(mutex_);
    // Jobs that idle threads are about to take do not count as waiting (idle threads above a lowered
    // thread count are about to end, and take none).
    size_t busy = live_ - idle_;
    size_t usable = wanted_ > busy ? std::min<size_t>(idle_, wanted_ - busy) : 0;
    size_t withThis = queue_.size() + 1;
    size_t waiting = withThis > usable ? withThis - usable : 0;  // would wait for a thread, this call included
    if (waiting > maxQueue_) {
      rejected_++;
      return Submitted::kFull;
    }
    try {
      queue_.push_back(job);
    } catch (...) {  // out of memory
      return Submitted::kFailed;
    }
    if (queue_.size() > usable && live_ < wanted_) {
      if (StartThread()) {
        live_++;
      } else if (live_ == 0) {  // nothing would ever run it
        queue_.pop_back();
        return Submitted::kFailed;
      }
    }
    lock.unlock();
    wake_.WakeOne();
    return Submitted::kQueued;
  }

  void Configure(uint32_t threads, uint32_t maxQueue) {
    std::unique_lock<SlimLock> lock(mutex_);
    wanted_ = threads;
    maxQueue_ = maxQueue;
    // More threads: started as jobs arrive (Submit), or now for jobs already waiting.
    while (live_ < wanted_ && queue_.size() > idle_ && StartThread()) live_++;
    lock.unlock();
    wake_.WakeAll();  // fewer threads: idle ones above the number end
  }

  struct Figures {
    uint32_t threads, maxQueue;
    size_t live, queued, running;
    uint64_t rejected, completed;
  };

  Figures Read() {
    std::lock_guard<SlimLock> lock(mutex_);
    return Figures{wanted_, maxQueue_, live_, queue_.size(), running_, rejected_, completed_};
  }

 private:
  // A detached thread running Run(); false if Windows could not start one.
  bool StartThread() {
    HANDLE thread = CreateThread(nullptr, 0, &Pool::ThreadMain, this, 0, nullptr);
    if (thread == nullptr) return false;
    CloseHandle(thread);
    return true;
  }

  static DWORD WINAPI ThreadMain(void* pool) {
    static_cast<Pool*>(pool)->Run();
    return 0;
  }

  void Run() {
    std::unique_lock<SlimLock> lock(mutex_);
    for (;;) {
      while (queue_.empty() && live_ <= wanted_) {
        idle_++;
        wake_.Wait(mutex_);
        idle_--;
      }
      if (live_ > wanted_) {  // configured down: this thread ends
        live_--;
        if (!queue_.empty()) wake_.WakeOne();  // let a remaining thread take what is waiting
        return;
      }
      Job* job = queue_.front();
      queue_.pop_front();
      running_++;
      lock.unlock();
      // A call whose environment already ended is not run: nobody would see its result.
      if (!ChannelClosed(*job->channel)) {
        try {
          job->call->Execute();
        } catch (...) {
          job->failed = true;
        }
      }
      Deliver(job);  // counted as running until then, so an idle queue holds no undelivered call
      lock.lock();
      running_--;
      completed_++;
    }
  }

  SlimLock mutex_;
  Condition wake_;
  std::deque<Job*> queue_;
  uint32_t wanted_ = kDefaultThreads;
  uint32_t maxQueue_ = kDefaultMaxQueue;
  size_t live_ = 0;     // threads started and not ended
  size_t idle_ = 0;     // threads waiting for a job
  size_t running_ = 0;  // jobs being executed
  uint64_t rejected_ = 0, completed_ = 0;
};

// Process-wide and never destroyed: its threads are detached and may outlive every environment (the
// process ends them); a static destructor at DLL unload would race them.
Pool& ThePool() {
  static Pool* pool = new Pool();
  return *pool;
}

void ClearPendingException(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

napi_value MakeError(napi_env env, const char* code, const std::string& message) {
  napi_value codeValue = nullptr, messageValue = nullptr, error = nullptr;
  if (code != nullptr && napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeValue) != napi_ok) return nullptr;
  if (napi_create_string_utf8(env, message.c_str(), message.size(), &messageValue) != napi_ok) return nullptr;
  if (napi_create_error(env, codeValue, messageValue, &error) != napi_ok) return nullptr;
  return error;
}

// The thread-safe function's callback, on the environment's JavaScript thread; env == NULL when the
// thread-safe function is being torn down with this job still queued in it.
void CallJs(napi_env env, napi_value /*js_callback*/, void* /*context*/, void* data) {
  std::unique_ptr<Job> job(static_cast<Job*>(data));
  if (env == nullptr) return;  // the destructor frees what the call acquired
  Channel& channel = *job->channel;
  if (channel.pending > 0 && --channel.pending == 0) napi_unref_threadsafe_function(env, channel.tsfn);

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value value = nullptr, error = nullptr;
  if (job->failed) {
    error = MakeError(env, nullptr, "SSPI call failed in the addon (out of memory)");
  } else {
    try {
      value = job->call->Result(Napi::Env(env));
    } catch (const Napi::Error& e) {
      error = e.Value();
    } catch (...) {
      error = MakeError(env, nullptr, "SSPI call result could not be built (out of memory)");
    }
  }
  job->call->Finish();
  // A settle fails only when the environment is stopping (JavaScript can no longer run): then nothing
  // is settled, nothing is thrown, and the handles the result carried belong to JavaScript objects that
  // the environment's teardown finalizes.
  if (value != nullptr) {
    if (napi_resolve_deferred(env, job->deferred, value) != napi_ok) ClearPendingException(env);
  } else if (error != nullptr) {
    if (napi_reject_deferred(env, job->deferred, error) != napi_ok) ClearPendingException(env);
  } else {
    ClearPendingException(env);
  }
  napi_close_handle_scope(env, scope);
}

void CloseChannel(void* arg) {
  auto* holder = static_cast<std::shared_ptr<Channel>*>(arg);
  {
    std::lock_guard<SlimLock> lock((*holder)->mutex);
    (*holder)->closed = true;
  }
  delete holder;
}

std::shared_ptr<Channel> ChannelOf(Napi::Env env) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data->channel) return data->channel;
  auto channel = std::make_shared<Channel>();
  napi_value name = Napi::String::New(env, "sspi");
  napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                                       CallJs, &channel->tsfn);
  NAPI_THROW_IF_FAILED(env, status, nullptr);
  // Idle, the channel must not keep the event loop alive; it is referenced while calls are pending.
  napi_unref_threadsafe_function(env, channel->tsfn);
  // Added after the thread-safe function's own cleanup hook, so it runs before it (hooks run in reverse
  // order): the channel is closed before Node-API closes and frees the thread-safe function.
  auto* holder = new std::shared_ptr<Channel>(channel);
  status = napi_add_env_cleanup_hook(env, CloseChannel, holder);
  if (status != napi_ok) {
    delete holder;
    NAPI_THROW_IF_FAILED(env, status, nullptr);
  }
  data->channel = channel;
  return channel;
}

uint32_t OptionalCount(Napi::Object options, const char* key, const char* what, uint32_t current, uint32_t min,
                       uint32_t max) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return current;
  uint32_t n = ToUint32(v, what);
  if (n < min || n > max) {
    throw Napi::RangeError::New(options.Env(), std::string(what) + " must be an integer from " + std::to_string(min) +
                                                   " to " + std::to_string(max));
  }
  return n;
}

// queueFigures() -> { threads, maxQueue, liveThreads, queued, running, rejected, completed }
Napi::Value FiguresValue(Napi::Env env) {
  Pool::Figures f = ThePool().Read();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", Napi::Number::New(env, f.threads));
  o.Set("maxQueue", Napi::Number::New(env, f.maxQueue));
  o.Set("liveThreads", Napi::Number::New(env, static_cast<double>(f.live)));
  o.Set("queued", Napi::Number::New(env, static_cast<double>(f.queued)));
  o.Set("running", Napi::Number::New(env, static_cast<double>(f.running)));
  o.Set("rejected", Napi::Number::New(env, static_cast<double>(f.rejected)));
  o.Set("completed", Napi::Number::New(env, static_cast<double>(f.completed)));
  return o;
}

Napi::Value QueueFigures(const Napi::CallbackInfo& info) { return FiguresValue(info.Env()); }

// configureQueue({ threads?, maxQueue? }) -> figures. Process-wide: every environment shares the queue.
Napi::Value ConfigureQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object { threads?, maxQueue? }");
  Napi::Object options = info[0].As<Napi::Object>();
  Pool::Figures now = ThePool().Read();
  uint32_t threads = OptionalCount(options, "threads", "threads", now.threads, 1, kMaxThreads);
  uint32_t maxQueue = OptionalCount(options, "maxQueue", "maxQueue", now.maxQueue, 0, kMaxMaxQueue);
  ThePool().Configure(threads, maxQueue);
  return FiguresValue(env);
}

}  // namespace

Napi::Value Dispatch(Napi::Env env, SspiCall* call, bool async) {
  std::unique_ptr<SspiCall> owned(call);
  if (!async) {
    owned->Execute();
    Napi::Value result;
    try {
      result = owned->Result(env);
    } catch (...) {
      owned->Finish();
      throw;
    }
    owned->Finish();
    return result;
  }

  std::shared_ptr<Channel> channel;
  try {
    channel = ChannelOf(env);
  } catch (...) {
    owned->Finish();
    throw;
  }
  napi_deferred deferred = nullptr;
  napi_value promise = nullptr;
  napi_status status = napi_create_promise(env, &deferred, &promise);
  if (status != napi_ok) {
    owned->Finish();
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  auto job = std::make_unique<Job>();
  job->call = std::move(owned);
  job->channel = channel;
  job->deferred = deferred;
  Pool::Submitted submitted = ThePool().Submit(job.get());
  if (submitted != Pool::Submitted::kQueued) {
    job->call->Finish();
    Pool::Figures f = ThePool().Read();
    napi_value error =
        submitted == Pool::Submitted::kFull
            ? MakeError(env, kQueueFullCode,
                        "SSPI call queue is full: " + std::to_string(f.queued) + " calls wait for " +
                            std::to_string(f.threads) + " threads (maxQueue " + std::to_string(f.maxQueue) +
                            "); try again later")
            : MakeError(env, nullptr, "SSPI call queue: the call could not be queued (no thread could be started, or out of memory)");
    if (error == nullptr || napi_reject_deferred(env, deferred, error) != napi_ok) {
      throw Napi::Error::New(env, "SSPI call queue: the call was refused and its promise could not be rejected");
    }
    return Napi::Value(env, promise);
  }
  job.release();  // the pool owns it now
  if (channel->pending++ == 0) napi_ref_threadsafe_function(env, channel->tsfn);
  return Napi::Value(env, promise);
}

void InitQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("configureQueue", Napi::Function::New<ConfigureQueue>(env, "configureQueue"));
  exports.Set("queueFigures", Napi::Function::New<QueueFigures>(env, "queueFigures"));
}

}  // namespace sspi
