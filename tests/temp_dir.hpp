// Files a test writes go to a directory of the test program's own under the system's temporary
// directory, which is removed with everything in it when the program ends.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace test {

/// `name` inside this program's temporary directory (created on first use, removed at exit).
inline std::string temp_path(const std::string& name) {
    struct Directory {
        std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("neuronka-test-" + std::to_string(::getpid()));
        ~Directory() {
            std::error_code ignored;  // nothing to report at exit; a leftover directory is harmless
            std::filesystem::remove_all(path, ignored);
        }
    };
    static const Directory directory;
    std::filesystem::create_directories(directory.path);
    return (directory.path / name).string();
}

}  // namespace test
