# ruff: noqa: RUF001  (Chinese text is written with Chinese punctuation)
"""What the demo desk's people write: requests, answers and questions, in English and
Chinese. Data only; ``router.demo_history`` picks from it.

These are the *requesters'* and *agents'* own words in a made-up history (what
they type), not what the desk says: the desk's own texts stay in its catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One kind of request, as a requester writes it and as an agent answers it."""

    category: str | None  # what a web form's topic would say; None: left to the rules
    subject: str
    body: str
    again: str  # the requester writes again before an answer, or after one that did not help
    question: str  # what an agent asks (the ticket then waits on the requester)
    answer_to_question: str  # the requester's answer to it
    reply: str  # the agent's answer
    note: str  # an internal note, ``{mention}`` naming a colleague
    thanks: str  # the requester's last word, sometimes
    comment_good: str
    comment_bad: str


TOPICS: dict[str, tuple[Topic, ...]] = {
    "en": (
        Topic(
            None,
            "Cannot log in",
            "Since this morning the login page says my password expired, and the reset "
            "mail never arrives.",
            "Still no reset mail. I checked the spam folder too.",
            "Which address do you sign in with, and does the page show an error number?",
            "I sign in with my work address; the page shows error 4031.",
            "I reset your password by hand and sent a one-time link; it is valid for an hour.",
            "Third lockout this month for this customer, {mention}: worth a look at the SSO logs?",
            "Works again, thank you!",
            "Quick and friendly.",
            "Took two days for a password.",
        ),
        Topic(
            "billing",
            "Charged twice for my invoice",
            "My card was charged twice for invoice 2024-118. Please refund one of the payments.",
            "Any news on the refund? The second charge is still on my statement.",
            "Could you send the last four digits of the card and the dates of both charges?",
            "Card ending 4421, charged on the 3rd and again on the 4th.",
            "The duplicate charge is refunded; it shows on your statement within five "
            "working days.",
            "{mention}, the payment provider retried after a timeout: same as last week?",
            "I see the refund, thanks.",
            "Clear answer, money back fast.",
            "Nobody told me how long the refund takes.",
        ),
        Topic(
            None,
            "VPN down since the update",
            "After last night's update the VPN client refuses my certificate and I cannot "
            "reach the intranet.",
            "Colleagues in my office have the same problem now.",
            "Which version of the client do you have (Help > About)?",
            "Version 5.2.1 on Windows 11.",
            "Version 5.2.1 has a known bug with older certificates; I renewed yours, please "
            "restart the client.",
            "{mention}: 5.2.1 breaks old certificates, we should pull the update.",
            "Connected again, great.",
            "Fixed before my first meeting.",
            "The VPN was down half a day.",
        ),
        Topic(
            None,
            "Printer on the 3rd floor jams",
            "The printer next to the kitchen jams on every second page and shows 'tray 2'.",
            "It jammed again today, with toner on the pages now.",
            "Does it jam with paper from tray 1 as well?",
            "Tray 1 works; only tray 2 jams.",
            "The roller of tray 2 was worn; the technician replaced it this afternoon.",
            "{mention}, this model needs new rollers every year: add it to the maintenance plan?",
            "Printing fine now.",
            "The technician came the same day.",
            "It took a week to send someone.",
        ),
        Topic(
            "billing",
            "Refund for order 88412",
            "I returned order 88412 two weeks ago and have not received my refund yet.",
            "Sending this again: no refund so far.",
            "Did you get a return label from us, and which carrier took the parcel?",
            "Yes, DHL picked it up on Monday, tracking 00340434.",
            "The parcel arrived at our warehouse; the refund of 59.90 is on its way.",
            "Warehouse scanned it late, {mention}: can you check the backlog there?",
            "Received, thank you.",
            "Friendly and quick.",
            "Had to ask three times.",
        ),
        Topic(
            None,
            "Add a new colleague to the shared mailbox",
            "Please give our new colleague Mia access to the sales mailbox from Monday.",
            "Mia starts tomorrow: is the access ready?",
            "Should Mia be able to send as the shared address, or only read it?",
            "Read and send, like the rest of the team.",
            "Mia has read and send access to the sales mailbox from Monday 08:00.",
            "{mention}, remember the licence count: we are at the limit.",
            "Perfect, thanks.",
            "Done ahead of time.",
            "Access came a day late.",
        ),
        Topic(
            None,
            "Export to Excel shows wrong dates",
            "When I export the report to Excel, every date is a month off.",
            "Same with yesterday's export.",
            "Which language and region is your Excel set to?",
            "German (Germany).",
            "The export used the US date order; I switched your profile to ISO dates.",
            "{mention}: we should default exports to ISO dates for everyone.",
            "The dates are right now.",
            "Solved in minutes.",
            "Still have to fix old exports by hand.",
        ),
    ),
    "zh": (
        Topic(
            None,
            "无法登录系统",
            "今天早上登录页面提示我的密码已过期，重置邮件一直没有收到。",
            "还是没有收到重置邮件，垃圾邮件箱也看过了。",
            "请问您用哪个邮箱登录？页面上有错误编号吗？",
            "我用公司邮箱登录，页面显示错误 4031。",
            "已为您手动重置密码，并发送了一次性登录链接，一小时内有效。",
            "{mention} 这位客户本月第三次被锁定，能否查一下单点登录的日志？",
            "可以登录了，谢谢！",
            "处理得很快，态度也好。",
            "一个密码问题等了两天。",
        ),
        Topic(
            "billing",
            "发票被重复扣款",
            "发票 2024-118 的款项被扣了两次，请退还其中一笔。",
            "退款有进展吗？账单上还是两笔扣款。",
            "请提供银行卡后四位以及两次扣款的日期。",
            "卡号后四位 4421，3 号扣了一次，4 号又扣了一次。",
            "重复扣款已退回，五个工作日内会显示在您的账单上。",
            "{mention} 支付渠道超时后自动重试了，和上周是同一个问题吗？",
            "退款收到了，谢谢。",
            "回答清楚，退款也快。",
            "没人告诉我退款要多久。",
        ),
        Topic(
            None,
            "更新后 VPN 连不上",
            "昨晚更新之后，VPN 客户端不接受我的证书，内网完全打不开。",
            "我们办公室的同事现在也遇到同样的问题。",
            "请问您的客户端是哪个版本（帮助 > 关于）？",
            "Windows 11 上的 5.2.1 版本。",
            "5.2.1 版本对旧证书有已知问题，已为您更新证书，请重启客户端。",
            "{mention} 5.2.1 会导致旧证书失效，建议撤回这次更新。",
            "已经连上了，太好了。",
            "第一个会议之前就解决了。",
            "VPN 断了半天。",
        ),
        Topic(
            None,
            "三楼打印机卡纸",
            "茶水间旁边的打印机每打两页就卡纸一次，屏幕显示“纸盒 2”。",
            "今天又卡纸了，纸上还有墨粉。",
            "用纸盒 1 的纸也会卡吗？",
            "纸盒 1 正常，只有纸盒 2 卡纸。",
            "纸盒 2 的搓纸轮磨损了，技术员今天下午已经更换。",
            "{mention} 这个型号每年都要换搓纸轮，要不要加到保养计划里？",
            "现在打印正常了。",
            "技术员当天就来了。",
            "等了一周才派人来。",
        ),
        Topic(
            "billing",
            "订单 88412 退款",
            "我两周前退回了订单 88412，到现在还没有收到退款。",
            "再问一次：还是没有收到退款。",
            "您收到我们的退货标签了吗？包裹是哪家快递取走的？",
            "收到了，顺丰周一取的件，单号 SF1234567。",
            "包裹已到仓库，59.90 元退款已经发出。",
            "{mention} 仓库扫描晚了，能帮忙看看那边的积压吗？",
            "收到了，谢谢。",
            "热情又及时。",
            "问了三次才有回复。",
        ),
        Topic(
            None,
            "为新同事开通共享邮箱",
            "我们的新同事小米下周一入职，请为她开通销售共享邮箱的权限。",
            "小米明天入职，权限开好了吗？",
            "小米需要以共享地址发信，还是只需要查看？",
            "需要查看和发信，和团队其他人一样。",
            "小米从周一 8:00 起可以查看并以销售邮箱发信。",
            "{mention} 注意许可证数量，已经到上限了。",
            "好的，谢谢。",
            "提前办好了。",
            "权限晚了一天才开通。",
        ),
        Topic(
            None,
            "导出 Excel 日期错误",
            "把报表导出到 Excel 后，所有日期都差了一个月。",
            "昨天的导出也是一样。",
            "请问您的 Excel 设置的是哪种语言和地区？",
            "中文（中国）。",
            "导出使用了美式日期顺序，已将您的配置改为 ISO 日期格式。",
            "{mention} 建议所有人的导出默认都用 ISO 日期。",
            "日期对了。",
            "几分钟就解决了。",
            "以前导出的文件还得手动改。",
        ),
    ),
}

GIVEN_NAMES = {
    "en": ("Jo", "Kim", "Alex", "Sam", "Robin", "Taylor", "Morgan", "Jamie", "Chris", "Pat"),
    "zh": ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳"),
}
FAMILY_NAMES = {
    "en": ("Park", "Meyer", "Garcia", "Novak", "Okafor", "Larsen", "Rossi", "Silva", "Khan"),
    "zh": ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周"),
}

# (name, email domain, tier): customers at a domain belong to its organisation
ORGANISATIONS = (
    ("Northwind Traders", "northwind.example", "gold"),
    ("Contoso Ltd", "contoso.example", "silver"),
    ("Fabrikam", "fabrikam.example", None),
    ("上海星辰科技", "xingchen.example", "gold"),
    ("杭州云帆贸易", "yunfan.example", None),
)
PRIVATE_DOMAINS = ("mail.example", "example.org", "post.example")
