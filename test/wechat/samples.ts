/**
 * @module
 * WeChat Pay v2 messages exactly as published (reference §10) with the fields they must decode to.
 * Their `sign` values are illustrative (reference §2.4), except in SIGNED_EXAMPLE.
 */

/** A published message and its fields, in document order. */
export type Sample = { name: string; xml: string; fields: Record<string, string> }

const DETAIL =
  '{ "goods_detail":[ { "goods_id":"iphone6s_16G", "wxpay_goods_id":"1001", "goods_name":"iPhone6s 16G", ' +
  '"quantity":1, "price":528800, "goods_category":"123456", "body":"苹果手机" }, { "goods_id":"iphone6s_32G", ' +
  '"wxpay_goods_id":"1002", "goods_name":"iPhone6s 32G", "quantity":1, "price":608800, "goods_category":"123789", ' +
  '"body":"苹果手机" } ] }'

const unifiedorderRequest = {
  appid: 'wx2421b1c4370ec43b',
  attach: '支付测试',
  body: 'JSAPI支付测试',
  mch_id: '10000100',
  detail: DETAIL,
  nonce_str: '1add1a30ac87aa2db72f57a2375d8fec',
  notify_url: 'http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  out_trade_no: '1415659990',
  spbill_create_ip: '14.23.150.211',
  total_fee: '1',
  trade_type: 'JSAPI',
  sign: '0CB01533B8C1EF103065174F50BCA001',
}

const orderqueryReply = {
  return_code: 'SUCCESS',
  return_msg: 'OK',
  appid: 'wx2421b1c4370ec43b',
  mch_id: '10000100',
  device_info: '1000',
  nonce_str: 'TN55wO9Pba5yENl8',
  sign: 'BDF0099C15FF7BC6B1585FBB110AB635',
  result_code: 'SUCCESS',
  openid: 'oUpF8uN95-Ptaags6E_roPHg7AG0',
  is_subscribe: 'Y',
  trade_type: 'MICROPAY',
  bank_type: 'CCB_DEBIT',
  total_fee: '1',
  fee_type: 'CNY',
  transaction_id: '1008450740201411110005820873',
  out_trade_no: '1415757673',
  attach: '订单额外描述',
  time_end: '20141111170043',
  trade_state: 'SUCCESS',
}

const closeorderRequest = {
  appid: 'wx2421b1c4370ec43b',
  mch_id: '10000100',
  nonce_str: '4ca93f17ddf3443ceabf72f26d64fe0e',
  out_trade_no: '1415983244',
  sign: '59FF1DF214B2D279A0EA7077C54DD95D',
}

const closeorderReply = {
  return_code: 'SUCCESS',
  return_msg: 'OK',
  appid: 'wx2421b1c4370ec43b',
  mch_id: '10000100',
  nonce_str: 'BFK89FC6rxKCOjLX',
  sign: '72B321D92A7BFA0B2509F3D13C7B1631',
  result_code: 'SUCCESS',
  result_msg: 'OK',
}

const notification = {
  appid: 'wx2421b1c4370ec43b',
  attach: '支付测试',
  bank_type: 'CFT',
  fee_type: 'CNY',
  is_subscribe: 'Y',
  mch_id: '10000100',
  nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
  openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
  out_trade_no: '1409811653',
  result_code: 'SUCCESS',
  return_code: 'SUCCESS',
  sign: 'B552ED6B279343CB493C5DD0D78AB241',
  time_end: '20140903131540',
  total_fee: '1',
  coupon_fee: '10',
  coupon_count: '1',
  coupon_type: 'CASH',
  coupon_id: '10000',
  trade_type: 'JSAPI',
  transaction_id: '1004400740201409030005092168',
}

// WxJava#1585: a real HMAC-signed notification without sign_type, CDATA and plain values mixed.
const hmacNotification = {
  appid: 'wxbabdf7a3a9acdfef',
  bank_type: 'OTHERS',
  cash_fee: '1',
  fee_type: 'CNY',
  is_subscribe: 'N',
  mch_id: '1583165551',
  nonce_str: '1590477937689',
  openid: 'oWeP25T9OE1ixbLUgN0DxMuSZ6N4',
  out_trade_no: '20052615250005',
  result_code: 'SUCCESS',
  return_code: 'SUCCESS',
  sign: '8172FF692C2606339C2C80B371F5695BAC78A52CBB64883F9A02B1C7A28B847C',
  time_end: '20200526152550',
  total_fee: '1',
  trade_type: 'JSAPI',
  transaction_id: '4200000540202005267407409907',
}

/** The reference §10 samples, verbatim. */
export const SAMPLES: readonly Sample[] = [
  {
    name: '10.1 unifiedorder request (plain text, CDATA JSON detail)',
    fields: unifiedorderRequest,
    xml: `<xml>
   <appid>wx2421b1c4370ec43b</appid>
   <attach>支付测试</attach>
   <body>JSAPI支付测试</body>
   <mch_id>10000100</mch_id>
   <detail><![CDATA[{ "goods_detail":[ { "goods_id":"iphone6s_16G", "wxpay_goods_id":"1001", "goods_name":"iPhone6s 16G", "quantity":1, "price":528800, "goods_category":"123456", "body":"苹果手机" }, { "goods_id":"iphone6s_32G", "wxpay_goods_id":"1002", "goods_name":"iPhone6s 32G", "quantity":1, "price":608800, "goods_category":"123789", "body":"苹果手机" } ] }]]></detail>
   <nonce_str>1add1a30ac87aa2db72f57a2375d8fec</nonce_str>
   <notify_url>http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php</notify_url>
   <openid>oUpF8uMuAJO_M2pxb1Q9zNjWeS6o</openid>
   <out_trade_no>1415659990</out_trade_no>
   <spbill_create_ip>14.23.150.211</spbill_create_ip>
   <total_fee>1</total_fee>
   <trade_type>JSAPI</trade_type>
   <sign>0CB01533B8C1EF103065174F50BCA001</sign>
</xml>`,
  },
  {
    name: '10.4 orderquery reply',
    fields: orderqueryReply,
    xml: `<xml>
   <return_code><![CDATA[SUCCESS]]></return_code>
   <return_msg><![CDATA[OK]]></return_msg>
   <appid><![CDATA[wx2421b1c4370ec43b]]></appid>
   <mch_id><![CDATA[10000100]]></mch_id>
   <device_info><![CDATA[1000]]></device_info>
   <nonce_str><![CDATA[TN55wO9Pba5yENl8]]></nonce_str>
   <sign><![CDATA[BDF0099C15FF7BC6B1585FBB110AB635]]></sign>
   <result_code><![CDATA[SUCCESS]]></result_code>
   <openid><![CDATA[oUpF8uN95-Ptaags6E_roPHg7AG0]]></openid>
   <is_subscribe><![CDATA[Y]]></is_subscribe>
   <trade_type><![CDATA[MICROPAY]]></trade_type>
   <bank_type><![CDATA[CCB_DEBIT]]></bank_type>
   <total_fee>1</total_fee>
   <fee_type><![CDATA[CNY]]></fee_type>
   <transaction_id><![CDATA[1008450740201411110005820873]]></transaction_id>
   <out_trade_no><![CDATA[1415757673]]></out_trade_no>
   <attach><![CDATA[订单额外描述]]></attach>
   <time_end><![CDATA[20141111170043]]></time_end>
   <trade_state><![CDATA[SUCCESS]]></trade_state>
</xml>`,
  },
  {
    name: '10.5 closeorder request',
    fields: closeorderRequest,
    xml: `<xml>
   <appid>wx2421b1c4370ec43b</appid>
   <mch_id>10000100</mch_id>
   <nonce_str>4ca93f17ddf3443ceabf72f26d64fe0e</nonce_str>
   <out_trade_no>1415983244</out_trade_no>
   <sign>59FF1DF214B2D279A0EA7077C54DD95D</sign>
</xml>`,
  },
  {
    name: '10.5 closeorder reply',
    fields: closeorderReply,
    xml: `<xml>
   <return_code><![CDATA[SUCCESS]]></return_code>
   <return_msg><![CDATA[OK]]></return_msg>
   <appid><![CDATA[wx2421b1c4370ec43b]]></appid>
   <mch_id><![CDATA[10000100]]></mch_id>
   <nonce_str><![CDATA[BFK89FC6rxKCOjLX]]></nonce_str>
   <sign><![CDATA[72B321D92A7BFA0B2509F3D13C7B1631]]></sign>
   <result_code><![CDATA[SUCCESS]]></result_code>
   <result_msg><![CDATA[OK]]></result_msg>
</xml>`,
  },
  {
    name: '10.6 payment notification',
    fields: notification,
    xml: `<xml>
  <appid><![CDATA[wx2421b1c4370ec43b]]></appid>
  <attach><![CDATA[支付测试]]></attach>
  <bank_type><![CDATA[CFT]]></bank_type>
  <fee_type><![CDATA[CNY]]></fee_type>
  <is_subscribe><![CDATA[Y]]></is_subscribe>
  <mch_id><![CDATA[10000100]]></mch_id>
  <nonce_str><![CDATA[5d2b6c2a8db53831f7eda20af46e531c]]></nonce_str>
  <openid><![CDATA[oUpF8uMEb4qRXf22hE3X68TekukE]]></openid>
  <out_trade_no><![CDATA[1409811653]]></out_trade_no>
  <result_code><![CDATA[SUCCESS]]></result_code>
  <return_code><![CDATA[SUCCESS]]></return_code>
  <sign><![CDATA[B552ED6B279343CB493C5DD0D78AB241]]></sign>
  <time_end><![CDATA[20140903131540]]></time_end>
  <total_fee>1</total_fee>
<coupon_fee><![CDATA[10]]></coupon_fee>
<coupon_count><![CDATA[1]]></coupon_count>
<coupon_type><![CDATA[CASH]]></coupon_type>
<coupon_id><![CDATA[10000]]></coupon_id>
  <trade_type><![CDATA[JSAPI]]></trade_type>
  <transaction_id><![CDATA[1004400740201409030005092168]]></transaction_id>
</xml>`,
  },
  {
    name: '10.6 HMAC notification without sign_type (WxJava#1585)',
    fields: hmacNotification,
    xml: `<xml><appid><![CDATA[wxbabdf7a3a9acdfef]]></appid>
<bank_type><![CDATA[OTHERS]]></bank_type>
<cash_fee><![CDATA[1]]></cash_fee>
<fee_type><![CDATA[CNY]]></fee_type>
<is_subscribe><![CDATA[N]]></is_subscribe>
<mch_id><![CDATA[1583165551]]></mch_id>
<nonce_str><![CDATA[1590477937689]]></nonce_str>
<openid><![CDATA[oWeP25T9OE1ixbLUgN0DxMuSZ6N4]]></openid>
<out_trade_no><![CDATA[20052615250005]]></out_trade_no>
<result_code><![CDATA[SUCCESS]]></result_code>
<return_code><![CDATA[SUCCESS]]></return_code>
<sign><![CDATA[8172FF692C2606339C2C80B371F5695BAC78A52CBB64883F9A02B1C7A28B847C]]></sign>
<time_end><![CDATA[20200526152550]]></time_end>
<total_fee>1</total_fee>
<trade_type><![CDATA[JSAPI]]></trade_type>
<transaction_id><![CDATA[4200000540202005267407409907]]></transaction_id>
</xml>`,
  },
]

/** The signed request printed by 安全规范 (reference §2.4): its sign is real, for key #1. */
export const SIGNED_EXAMPLE = {
  key: '192006250b4c09247ec02edce69f6a2d',
  xml: `<xml>
<appid>wxd930ea5d5a258f4f</appid>
<mch_id>10000100</mch_id>
<device_info>1000</device_info>
<body>test</body>
<nonce_str>ibuaiVcKdpRxkhJA</nonce_str>
<sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign>
</xml>`,
}
