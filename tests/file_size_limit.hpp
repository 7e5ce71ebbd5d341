// A full disk, simulated: while a FileSizeLimit lives, no file of this process may grow past `bytes`
// (RLIMIT_FSIZE, what `ulimit -f` sets), and a write past it fails with EFBIG instead of raising
// SIGXFSZ. The destructor restores the previous limit and signal disposition.
#pragma once

#include <sys/resource.h>
#include <csignal>
#include <stdexcept>

class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        if (::getrlimit(RLIMIT_FSIZE, &saved_) != 0) throw std::runtime_error("getrlimit(RLIMIT_FSIZE) failed");
        saved_signal_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = saved_;
        limited.rlim_cur = bytes;
        if (::setrlimit(RLIMIT_FSIZE, &limited) != 0) throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, saved_signal_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit saved_{};
    void (*saved_signal_)(int) = SIG_DFL;
};
