# 简体中文 (zh-CN)。使用“您”；句子简短，方便在手机上阅读。

## 页面文字

nav-skip = 跳至主要内容
privacy-note = 您的答案是保密的，只有您的个案工作者所在的机构可以看到。

## 自我评估

sa-title = 自我评估
sa-intro = 这些问题可以帮助您和您的个案工作者了解哪些方面进展顺利，哪些方面您可能需要支持。答案没有对错之分。请根据您现在的情况，选择每句话与您相符的程度。
sa-submit = 提交我的答案
sa-thanks = 谢谢您！您的答案已保存。
sa-language = 语言
sa-expired = 此链接已过期或已被使用。请向您的个案工作者索取新的链接。
sa-required = 请回答所有问题后再提交。

## 回答量表（0 到 4）

sa-scale-0 = 完全不符合
sa-scale-1 = 有一点符合
sa-scale-2 = 部分符合
sa-scale-3 = 大部分符合
sa-scale-4 = 完全符合

## 各方面的标题

sa-element-english = 英语
sa-element-education = 教育与学习
sa-element-economic = 工作与收入
sa-element-credentials = 证书与证件
sa-element-health = 身心健康
sa-element-civic = 参与社区
sa-element-navigation = 出行与寻找服务
sa-element-social = 朋友与归属感

## 问题

sa-q-english-1 = 我能听懂孩子的老师或我的医生说的英语。
sa-q-english-2 = 我能用英语填写简单的表格，比如学校或诊所的表格。
sa-q-english-3 = 我能在工作场所、商店里或电话中用英语和别人交谈。

sa-q-education-1 = 我知道可以去哪里上课继续学习，比如学英语、考高中文凭、上大学或参加职业培训。
sa-q-education-2 = 我了解这里的中小学和大学是怎样运作的。

sa-q-economic-1 = 我有工作，或者我知道怎样找一份适合自己技能的工作。
sa-q-economic-2 = 我家每个月有足够的钱支付房租、伙食费和各种账单。
sa-q-economic-3 = 我会使用银行或信用合作社的账户存钱和支付账单。

sa-q-credentials-1 = 我知道怎样让我在其他国家取得的文凭或执照在这里得到认可。
sa-q-credentials-2 = 我知道我想做的工作需要哪些许可证或执照。
sa-q-credentials-3 = 我知道去哪里可以得到可靠的帮助，办理我的移民或入籍文件。

sa-q-health-1 = 我生病时有可以去看的医生或诊所。
sa-q-health-2 = 我有医疗保险，或者我知道怎样获得保险或低价的医疗服务。
sa-q-health-3 = 如果我长时间感到压力大、难过或担忧，我知道去哪里寻求帮助。

sa-q-civic-1 = 我了解自己在这个国家的基本权利，比如在工作中或租房时。
sa-q-civic-2 = 我参与社区生活，比如参加学校的会议、做义工或参加社区团体。

sa-q-navigation-1 = 我知道怎样乘坐公交车、火车或用其他方式在本地出行。
sa-q-navigation-2 = 我会用手机或电脑查找信息、发电子邮件或在网上填写表格。
sa-q-navigation-3 = 我知道在食物、住房或公共福利方面可以去哪里寻求帮助。

sa-q-social-1 = 遇到问题时，我有可以求助的人。
sa-q-social-2 = 我在这里有经常来往的朋友或邻居。
sa-q-social-3 = 我在自己的社区里感到受欢迎。
