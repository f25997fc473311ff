// The XML of S3 answers, parsed with pugixml into plain structs. Every body
// is untrusted: anything malformed is ErrorCode::kProtocol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace hfm::s3 {

struct S3ErrorBody {
  std::string code;
  std::string message;  // may be empty (Ceph RGW sends <Message></Message>)
  std::string request_id;
  std::string region;       // <Region> on redirects, when present
  std::string server_time;  // <ServerTime> of RequestTimeTooSkewed ("2024-01-01T00:20:00Z"), when present
};

// nullopt when the body is not an <Error> document.
std::optional<S3ErrorBody> parse_error_body(std::string_view xml);

struct UploadedPart {
  int part_number = 0;
  uint64_t size_bytes = 0;
  std::string etag;             // quoted as the server sent it
  std::string checksum_crc32c;  // base64; only for uploads created with the CRC32C algorithm
};

struct ListPartsPage {
  std::vector<UploadedPart> parts;
  bool truncated = false;
  std::string next_part_number_marker;
};

struct MultipartUploadEntry {
  std::string key;
  std::string upload_id;
};

struct ListUploadsPage {
  std::vector<MultipartUploadEntry> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

struct ObjectEntry {
  std::string key;
  uint64_t size_bytes = 0;
  std::string etag;
};

struct ListObjectsPage {
  std::vector<ObjectEntry> objects;
  bool truncated = false;
  std::string next_continuation_token;
};

struct DeleteResult {
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, std::string>> errors;  // key, code
};

Result<std::string> parse_initiate_multipart_upload(std::string_view xml);  // UploadId
Result<ListPartsPage> parse_list_parts(std::string_view xml);
Result<ListUploadsPage> parse_list_multipart_uploads(std::string_view xml);
Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml);
Result<DeleteResult> parse_delete_result(std::string_view xml);

std::string xml_escape(std::string_view text);
std::string complete_multipart_upload_body(const std::vector<UploadedPart>& parts);
std::string delete_objects_body(const std::vector<std::string>& keys);

}  // namespace hfm::s3
