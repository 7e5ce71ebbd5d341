/// @file detail/atomic_file.hpp
/// @brief Whole-file writes that never leave a half-written file, and bounded whole-file reads:
/// what checkpoints and safetensors files are saved and loaded with.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace neuronka {

/// A file neuronka writes or reads whole (a checkpoint, a training history, experiment results) that
/// cannot be written or read; the message says where and why.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A checkpoint that cannot be written or read, or whose contents are not a checkpoint of the model
/// given; the message says where and why. A FileError, so one handler catches every file failure.
class CheckpointError : public FileError {
public:
    using FileError::FileError;
};

namespace detail {

/// Replaces the file at `path` by `bytes` so that, whatever happens, the path holds either the old
/// or the complete new contents: temporary file in the same directory, fsync, rename, fsync of the
/// directory. The file gets the mode an existing file at `path` has, else that of any new file
/// (0666 less the umask). Every failure throws `Error`; before the rename, the previous file is unchanged.
template <class Error = FileError>
void write_atomically(const std::string& path, const std::vector<unsigned char>& bytes) {
#if defined(__unix__) || defined(__APPLE__)
    struct ::stat existing {};
    const bool replaces = ::stat(path.c_str(), &existing) == 0;
    static std::atomic<unsigned> serial{0};
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {  // O_EXCL: a name no one else holds; the kernel applies the umask
        tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt == 100))
            throw Error(path + ": cannot create a temporary file next to it: " + std::strerror(errno) +
                        "; the previous file is unchanged");
    }
    auto fail = [&](const char* step) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(path + ": " + step + " failed: " + reason + "; the previous file is unchanged");
    };
    if (replaces && ::fchmod(fd, existing.st_mode & 07777) != 0) fail("keeping the existing file's mode");
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("writing");
        done += std::size_t(n);
    }
    if (::fsync(fd) != 0) fail("fsync");
    if (::close(fd) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path + ": closing the temporary file failed: " + reason + "; the previous file is unchanged");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path + ": rename failed: " + reason + "; the previous file is unchanged");
    }
    // Make the rename itself durable. A file system that cannot sync a directory says EINVAL.
    const std::size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dfd >= 0 && (::fsync(dfd) == 0 || errno == EINVAL);
    const std::string reason = synced ? "" : std::strerror(errno);
    if (dfd >= 0) ::close(dfd);
    if (!synced)
        throw Error(path + ": the new file is complete and in place, but syncing its directory " + dir +
                    " failed: " + reason + "; after a power loss the path may still hold the previous file");
#else
    // Without POSIX: a rename does not replace an existing file everywhere, so the previous file
    // is moved aside first and moved back if the new one cannot take its place.
    const std::string tmp = path + ".tmp", aside = path + ".previous";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        out.flush();
        if (!out) {
            out.close();
            std::remove(tmp.c_str());
            throw Error(path + ": writing the temporary file failed; the previous file is unchanged");
        }
    }
    std::remove(aside.c_str());
    const bool moved_aside = std::rename(path.c_str(), aside.c_str()) == 0;
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        if (moved_aside) std::rename(aside.c_str(), path.c_str());
        std::remove(tmp.c_str());
        throw Error(path + ": rename failed; the previous file is unchanged");
    }
    if (moved_aside) std::remove(aside.c_str());
#endif
}

/// The bytes of the file at `path`, refused before reading when it has more than `limit` bytes
/// (`what` names what the file should hold, for the message). Every failure throws `Error`.
template <class Error = FileError>
std::vector<unsigned char> read_file(const std::string& path, std::uint64_t limit, const char* what = "file") {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(path + ": cannot open the file");
    const std::streamoff size = in.tellg();
    if (size < 0) throw Error(path + ": cannot determine the file's size");
    if (std::uint64_t(size) > limit)
        throw Error(path + ": file has " + std::to_string(size) + " bytes, more than the " + std::to_string(limit) +
                    " this model's " + what + " can have (is it over-long, or for another model?)");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), size);
    if (!in) throw Error(path + ": reading the file failed");
    return bytes;
}

}  // namespace detail
}  // namespace neuronka
