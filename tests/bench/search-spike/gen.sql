-- SPDX-License-Identifier: Apache-2.0
-- Search spike (issue 12): a million generated Chinese company names in schema spike_search of
-- the dev MariaDB, for comparing LIKE, Mroonga and an InnoDB bigram table. See README.md.
DROP DATABASE IF EXISTS spike_search;
CREATE DATABASE spike_search CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE spike_search;
CREATE TABLE c (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  manager_id INT UNSIGNED NOT NULL,
  level CHAR(1) NOT NULL,
  KEY ix_mgr (manager_id, id)
) ENGINE=InnoDB;
SET @cities = '北京市,上海市,深圳市,广州市,杭州市,南京市,苏州市,成都市,武汉市,西安市,重庆市,天津市,长沙市,郑州市,青岛市,宁波市,厦门市,福州市,合肥市,济南市,沈阳市,大连市,昆明市,南宁市,贵阳市,石家庄市,太原市,南昌市,无锡市,佛山市,东莞市,常州市,温州市,珠海市,中山市,惠州市,烟台市,绍兴市,嘉兴市,台州市';
SET @words = '华为,中兴,腾讯,阿里,百度,京东,美的,格力,海尔,联想,小米,比亚迪,长城,吉利,万科,碧桂园,恒瑞,药明,宁德,隆基,通威,三一,中联,徐工,潍柴,福耀,伊利,蒙牛,双汇,海天,金龙,鲁花,立白,蓝月,纳爱,安踏,李宁,波司,雅戈,森马,红豆,恒力,盛虹,荣盛,桐昆,新凤,华峰,东方,南方,北方,西部,中部,宏达,宏远,鸿运,鑫源,鑫达,金源,金达,瑞丰,瑞达,恒达,恒通,通达,顺达,顺丰,天成,天诚,天宇,天翼,华宇,华信,华通,华达,华兴,华美,华润,华联,华夏,华泰,新华,新兴,新世纪,新时代,永信,永兴,永安,永泰,博源,博远,博达,博雅,卓越,卓信,卓达,创新,创元,创达,创世,众诚,众信,众联,汇通,汇丰,汇源,汇达,星辰,星河,星海,明珠,明达,明辉,光明,光大,光华,宝利,宝龙,宝钢,银河,银泰,金融,金桥,长江,长虹,长安,黄河,泰山,峨眉,昆仑,天山,海纳,海创,海信,海康,大华,大成,大地,安信,安达,安泰,诚信,诚达,诚泰,佳信,佳达,佳美,嘉信,嘉禾,嘉华,锦江,锦绣,锦程,凯达,凯旋,凯瑞,富达,富源,富华,盛达,盛世,盛元,鼎盛,鼎信,鼎新,聚源,聚信,聚力,力达,力源,力帆,正泰,正大,正信,德力,德信,德胜,仁和,仁达,和信,和达,和平,同方,同仁,同济,协和,协力,协信';
SET @inds = '科技,信息技术,电子,软件,网络科技,贸易,进出口,实业,机械,机电,建材,建筑工程,装饰工程,食品,农业,生物科技,医药,医疗器械,化工,新材料,新能源,环保科技,物流,供应链管理,电子商务,文化传媒,广告,教育科技,咨询,商贸';
SET @sufs = '有限公司,有限责任公司,股份有限公司,集团有限公司';
INSERT INTO c (id, name, manager_id, level)
SELECT seq,
  CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@cities, ',', 1 + CRC32(CONCAT('c', seq)) % 40), ',', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ',', 1 + CRC32(CONCAT('w', seq)) % 200), ',', -1),
         IF(CRC32(CONCAT('x', seq)) % 10 < 6, SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ',', 1 + CRC32(CONCAT('v', seq)) % 200), ',', -1), ''),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@inds, ',', 1 + CRC32(CONCAT('i', seq)) % 30), ',', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@sufs, ',', 1 + CRC32(CONCAT('s', seq)) % 4), ',', -1)),
  1 + FLOOR(POW((seq * 2654435761 % 1000000) / 1000000, 3) * 500),
  ELT(1 + seq % 3, 'A', 'B', 'C')
FROM seq_1_to_1000000;
SELECT COUNT(*), COUNT(DISTINCT name) FROM c;
