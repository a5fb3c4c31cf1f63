<?php
// AffTrack server-to-server example (PHP 8, no extensions beyond json and hash): reports a
// server-side click, then a conversion (postback) attributed to it, signed with the seed's
// HMAC-SHA256 recipe. Uses PHP's HTTP stream wrapper, so it needs no cURL.
//
//   AFFTOK_API_KEY=ak_... AFFTOK_ADVERTISER_ID=adv_... AFFTOK_OFFER_ID=off_... \
//   AFFTOK_TRACKING_CODE=... AFFTOK_BASE_URL=http://127.0.0.1:8788 php tracker.php
//
// Prints one JSON line: {"click_id":...,"conversion_id":...,"transaction_id":...}.

function requireEnv(string $name): string {
    $value = getenv($name);
    if ($value === false || $value === '') {
        fwrite(STDERR, "missing environment variable $name\n");
        exit(2);
    }
    return $value;
}

$apiKey = requireEnv('AFFTOK_API_KEY');
$advertiserId = requireEnv('AFFTOK_ADVERTISER_ID');
$baseUrl = rtrim(getenv('AFFTOK_BASE_URL') ?: 'https://api.afftok.com', '/');
$offerId = requireEnv('AFFTOK_OFFER_ID');
$trackingCode = getenv('AFFTOK_TRACKING_CODE') ?: '';

/** hex(HMAC-SHA256(api_key, "{api_key}|{advertiser_id}|{timestamp}|{nonce}")) */
function generateSignature(string $apiKey, string $advertiserId, int $timestamp, string $nonce): string {
    return hash_hmac('sha256', "{$apiKey}|{$advertiserId}|{$timestamp}|{$nonce}", $apiKey);
}

function backoffSeconds(int $attempt): float {
    return (mt_rand() / mt_getrandmax()) * min(8.0, 0.25 * (2 ** $attempt));
}

/** Seconds a Retry-After asks for: delta-seconds or an HTTP date (RFC 9110); null if neither. */
function retryAfterSeconds(?string $value): ?float {
    if ($value === null || $value === '') return null;
    $value = trim($value);
    if (ctype_digit($value)) return (float) $value;
    $at = strtotime($value);
    return $at === false ? null : max(0.0, $at - microtime(true));
}

/**
 * POSTs a signed body with a fresh timestamp and nonce per attempt. Retries 429/503 (nothing was
 * written) and, when keyed by a transaction_id, network errors too.
 */
function send(string $path, array $fields, bool $keyed): array {
    global $apiKey, $advertiserId, $baseUrl;
    $uncertain = false; // an earlier attempt may have been recorded (its answer was lost)
    for ($attempt = 0; ; $attempt++) {
        $timestamp = (int) floor(microtime(true) * 1000);
        $nonce = bin2hex(random_bytes(16));
        $body = array_merge(['api_key' => $apiKey, 'advertiser_id' => $advertiserId], $fields, [
            'timestamp' => $timestamp,
            'nonce' => $nonce,
            'signature' => generateSignature($apiKey, $advertiserId, $timestamp, $nonce),
        ]);
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'protocol_version' => 1.1,
            'header' => "Content-Type: application/json\r\nConnection: close\r\n",
            'content' => json_encode($body),
            'ignore_errors' => true, // read the error envelope of 4xx/5xx answers
            'timeout' => 15,
        ]]);
        $stream = @fopen($baseUrl . $path, 'r', false, $context);
        if ($stream === false) {
            if (!$keyed || $attempt >= 3) throw new RuntimeException("$path: network error");
            $uncertain = true;
            usleep((int) (backoffSeconds($attempt) * 1e6));
            continue;
        }
        $status = 0;
        $retryAfter = null;
        $length = -1;
        foreach (stream_get_meta_data($stream)['wrapper_data'] as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) $status = (int) $m[1];
            if (preg_match('#^Retry-After:\s*(.+?)\s*$#i', $line, $m)) $retryAfter = retryAfterSeconds($m[1]);
            if (preg_match('#^Content-Length:\s*(\d+)#i', $line, $m)) $length = (int) $m[1];
        }
        // Read exactly Content-Length bytes: a server keeping the connection alive is not waited for.
        $raw = stream_get_contents($stream, $length);
        fclose($stream);
        $json = json_decode($raw, true) ?: [];
        if (($status === 429 || $status === 503) && $attempt < 3 && ($retryAfter ?? 0) <= 60) {
            usleep((int) (max($retryAfter ?? 0, backoffSeconds($attempt)) * 1e6));
            continue;
        }
        // A retry after a lost answer told "duplicate": that attempt was recorded. After a 429/503
        // (which write nothing) a 409 is a real duplicate, thrown below.
        if ($keyed && $uncertain && $status === 409 && ($json['code'] ?? '') === 'DUPLICATE_TRANSACTION') {
            return ['already_recorded' => true];
        }
        if (($json['success'] ?? false) !== true) {
            throw new RuntimeException("$path: $status " . ($json['code'] ?? '') . ': ' . ($json['error'] ?? $raw));
        }
        return $json['data'];
    }
}

$clickId = null;
if ($trackingCode !== '') {
    $click = send('/api/sdk/click', [
        'offer_id' => $offerId,
        'tracking_code' => $trackingCode,
        'sub_id_1' => 'source',
        'sub_id_2' => 'medium',
        'sub_id_3' => 'campaign',
        'ip' => '203.0.113.12',
        'user_agent' => 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
    ], false);
    $clickId = $click['click_id'];
}

$transactionId = getenv('AFFTOK_TRANSACTION_ID') ?: 'txn_' . bin2hex(random_bytes(8));
$conversion = send('/api/postback', [
    'offer_id' => $offerId,
    'transaction_id' => $transactionId,
    'click_id' => $clickId,
    'amount' => 29.99,
    'currency' => 'USD',
    'status' => 'approved',
    'custom_params' => ['product_id' => 'prod_456'],
], true);
echo json_encode([
    'click_id' => $clickId,
    'conversion_id' => $conversion['conversion_id'] ?? null,
    'transaction_id' => $transactionId,
]), "\n";
