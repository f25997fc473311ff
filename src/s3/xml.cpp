#include "s3/xml.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <charconv>

namespace hfm::s3 {
namespace {

Result<pugi::xml_document> load(std::string_view xml, std::string_view root_name) {
  pugi::xml_document doc;
  const auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) return unexpected(ErrorCode::kProtocol, fmt::format("malformed S3 XML: {}", r.description()));
  if (std::string_view(doc.document_element().name()) != root_name) {
    return unexpected(ErrorCode::kProtocol, fmt::format("S3 answered <{}> where <{}> was expected",
                                                        doc.document_element().name(), root_name));
  }
  return doc;
}

std::string text(const pugi::xml_node& n, const char* child) { return n.child(child).text().as_string(); }

Result<uint64_t> number(const pugi::xml_node& n, const char* child) {
  const std::string s = text(n, child);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return unexpected(ErrorCode::kProtocol, fmt::format("S3 XML field <{}> is not a number: '{}'", child, s));
  }
  return v;
}

bool truthy(const pugi::xml_node& n, const char* child) { return text(n, child) == "true"; }

}  // namespace

std::optional<S3ErrorBody> parse_error_body(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  const auto root = doc.document_element();
  if (std::string_view(root.name()) != "Error") return std::nullopt;
  return S3ErrorBody{text(root, "Code"), text(root, "Message"), text(root, "RequestId"), text(root, "Region"),
                     text(root, "ServerTime")};
}

Result<std::string> parse_initiate_multipart_upload(std::string_view xml) {
  HFM_ASSIGN_OR_RETURN(auto doc, load(xml, "InitiateMultipartUploadResult"));
  std::string id = text(doc.document_element(), "UploadId");
  if (id.empty()) return unexpected(ErrorCode::kProtocol, "CreateMultipartUpload answered without an UploadId");
  return id;
}

Result<ListPartsPage> parse_list_parts(std::string_view xml) {
  HFM_ASSIGN_OR_RETURN(auto doc, load(xml, "ListPartsResult"));
  const auto root = doc.document_element();
  ListPartsPage page;
  page.truncated = truthy(root, "IsTruncated");
  page.next_part_number_marker = text(root, "NextPartNumberMarker");
  for (auto p : root.children("Part")) {
    UploadedPart part;
    HFM_ASSIGN_OR_RETURN(uint64_t num, number(p, "PartNumber"));
    if (num < 1 || num > 10'000) return unexpected(ErrorCode::kProtocol, "ListParts: part number out of range");
    part.part_number = static_cast<int>(num);
    HFM_ASSIGN_OR_RETURN(part.size_bytes, number(p, "Size"));
    part.etag = text(p, "ETag");
    part.checksum_crc32c = text(p, "ChecksumCRC32C");
    page.parts.push_back(std::move(part));
  }
  return page;
}

Result<ListUploadsPage> parse_list_multipart_uploads(std::string_view xml) {
  HFM_ASSIGN_OR_RETURN(auto doc, load(xml, "ListMultipartUploadsResult"));
  const auto root = doc.document_element();
  ListUploadsPage page;
  page.truncated = truthy(root, "IsTruncated");
  page.next_key_marker = text(root, "NextKeyMarker");
  page.next_upload_id_marker = text(root, "NextUploadIdMarker");
  for (auto u : root.children("Upload")) page.uploads.push_back({text(u, "Key"), text(u, "UploadId")});
  return page;
}

Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml) {
  HFM_ASSIGN_OR_RETURN(auto doc, load(xml, "ListBucketResult"));
  const auto root = doc.document_element();
  ListObjectsPage page;
  page.truncated = truthy(root, "IsTruncated");
  page.next_continuation_token = text(root, "NextContinuationToken");
  for (auto c : root.children("Contents")) {
    ObjectEntry e;
    e.key = text(c, "Key");
    HFM_ASSIGN_OR_RETURN(e.size_bytes, number(c, "Size"));
    e.etag = text(c, "ETag");
    page.objects.push_back(std::move(e));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return unexpected(ErrorCode::kProtocol, "ListObjectsV2 is truncated but has no continuation token");
  }
  return page;
}

Result<DeleteResult> parse_delete_result(std::string_view xml) {
  HFM_ASSIGN_OR_RETURN(auto doc, load(xml, "DeleteResult"));
  DeleteResult r;
  for (auto d : doc.document_element().children("Deleted")) r.deleted.push_back(text(d, "Key"));
  for (auto e : doc.document_element().children("Error")) r.errors.emplace_back(text(e, "Key"), text(e, "Code"));
  return r;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += "&#10;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string complete_multipart_upload_body(const std::vector<UploadedPart>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : parts) {
    out += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>", p.part_number, xml_escape(p.etag));
    if (!p.checksum_crc32c.empty())
      out += fmt::format("<ChecksumCRC32C>{}</ChecksumCRC32C>", xml_escape(p.checksum_crc32c));
    out += "</Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string delete_objects_body(const std::vector<std::string>& keys) {
  std::string out = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>false</Quiet>";
  for (const auto& k : keys) out += "<Object><Key>" + xml_escape(k) + "</Key></Object>";
  out += "</Delete>";
  return out;
}

}  // namespace hfm::s3
