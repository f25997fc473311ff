#include <gtest/gtest.h>

#include "s3/part_plan.h"
#include "s3/s3_client.h"
#include "s3/xml.h"

namespace hfm::s3 {
namespace {

TEST(S3PartPlan, RespectsTheLimits) {
  auto p = plan_parts(100ull << 20, 16ull << 20);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->part_count, 7u);
  EXPECT_EQ(p->last_part_bytes, 4ull << 20);
  EXPECT_FALSE(plan_parts(100, 4ull << 20));              // below the 5 MiB minimum
  EXPECT_FALSE(plan_parts(100, 6ull << 30));              // above the 5 GiB maximum
  auto too_many = plan_parts(200ull << 30, 16ull << 20);  // 12,800 parts
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message.find("--part-size"), std::string::npos);
  EXPECT_EQ(min_part_size_for(200ull << 30), 21ull << 20);
  EXPECT_EQ(min_part_size_for(1), 5ull << 20);
  auto exact = plan_parts(32ull << 20, 16ull << 20);
  EXPECT_EQ(exact->part_count, 2u);
  EXPECT_EQ(exact->last_part_bytes, 16ull << 20);
}

TEST(S3Xml, ErrorBodyWithEmptyMessage) {
  // Ceph RGW sends an empty <Message>.
  auto e = parse_error_body(
      "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message></Message>"
      "<RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "SignatureDoesNotMatch");
  EXPECT_EQ(e->message, "");
  EXPECT_EQ(e->request_id, "tx1");
  EXPECT_FALSE(parse_error_body("<CompleteMultipartUploadResult/>"));
  EXPECT_FALSE(parse_error_body("not xml"));
}

TEST(S3Xml, ListPartsAndUploads) {
  auto parts = parse_list_parts(
      "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>"
      "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag><Size>5242880</Size></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag><ChecksumCRC32C>yZRlqg==</ChecksumCRC32C><Size>10</Size>"
      "</Part></ListPartsResult>");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->parts.size(), 2u);
  EXPECT_EQ(parts->parts[1].etag, "\"b\"");
  EXPECT_EQ(parts->parts[0].checksum_crc32c, "");
  EXPECT_EQ(parts->parts[1].checksum_crc32c, "yZRlqg==");
  EXPECT_TRUE(parts->truncated);
  EXPECT_EQ(parts->next_part_number_marker, "2");
  EXPECT_FALSE(
      parse_list_parts("<ListPartsResult><Part><PartNumber>0</PartNumber><Size>1</Size></Part></ListPartsResult>"));
  EXPECT_FALSE(
      parse_list_parts("<ListPartsResult><Part><PartNumber>1</PartNumber><Size>x</Size></Part></ListPartsResult>"));
  EXPECT_FALSE(parse_list_parts("<Other/>"));

  auto ups = parse_list_multipart_uploads(
      "<ListMultipartUploadsResult><Upload><Key>m/a b.bin</Key><UploadId>u1</UploadId></Upload>"
      "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>");
  ASSERT_TRUE(ups);
  ASSERT_EQ(ups->uploads.size(), 1u);
  EXPECT_EQ(ups->uploads[0].key, "m/a b.bin");
}

TEST(S3Xml, ListObjectsNeedsATokenWhenTruncated) {
  auto ok = parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>"
      "<Contents><Key>k</Key><Size>3</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->objects[0].size_bytes, 3u);
  EXPECT_FALSE(parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"));
}

TEST(S3Xml, BodiesEscapeKeysAndEtags) {
  EXPECT_EQ(delete_objects_body({"a&b<c>.txt"}),
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>false</Quiet>"
            "<Object><Key>a&amp;b&lt;c&gt;.txt</Key></Object></Delete>");
  EXPECT_EQ(complete_multipart_upload_body({{1, 0, "\"x\"", ""}, {2, 0, "\"y\"", "yZRlqg=="}}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1"
            "</PartNumber><ETag>&quot;x&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;y&quot;"
            "</ETag><ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></Part></CompleteMultipartUpload>");
  auto del = parse_delete_result(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code></Error>"
      "</DeleteResult>");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->deleted.size(), 1u);
  EXPECT_EQ(del->errors[0].second, "AccessDenied");
}

TEST(S3Uri, ParsesAndValidates) {
  auto u = parse_s3_uri("s3://acme-ray-models/models/mistral-7b/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->bucket, "acme-ray-models");
  EXPECT_EQ(u->prefix, "models/mistral-7b");
  EXPECT_EQ(parse_s3_uri("s3://bucket")->prefix, "");
  EXPECT_FALSE(parse_s3_uri("s3://Bad_Bucket/x"));
  EXPECT_FALSE(parse_s3_uri("s3://ab/x"));
  EXPECT_FALSE(parse_s3_uri("s3://bucket//x"));
  EXPECT_FALSE(parse_s3_uri("http://bucket/x"));
}

}  // namespace
}  // namespace hfm::s3
