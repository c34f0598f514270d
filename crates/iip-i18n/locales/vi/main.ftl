# Tiếng Việt (vi). Xưng hô lịch sự «quý vị»; câu ngắn, dễ đọc trên điện thoại.

## Chữ trên trang

nav-skip = Chuyển đến nội dung
privacy-note = Câu trả lời của quý vị được bảo mật: chỉ tổ chức của nhân viên phụ trách hồ sơ của quý vị mới xem được.

## Tự đánh giá

sa-title = Tự đánh giá
sa-intro = Những câu hỏi này giúp quý vị và nhân viên phụ trách hồ sơ của quý vị thấy được điều gì đang tiến triển tốt và điều gì quý vị có thể cần hỗ trợ. Không có câu trả lời đúng hay sai. Với mỗi câu, xin chọn mức độ đúng với quý vị hiện nay.
sa-submit = Gửi câu trả lời của tôi
sa-thanks = Xin cảm ơn! Câu trả lời của quý vị đã được lưu.
sa-language = Ngôn ngữ
sa-expired = Liên kết này đã hết hạn hoặc đã được sử dụng. Xin hỏi nhân viên phụ trách hồ sơ của quý vị để nhận liên kết mới.
sa-required = Xin vui lòng trả lời tất cả các câu hỏi trước khi gửi.

## Thang trả lời (0 đến 4)

sa-scale-0 = Không chút nào
sa-scale-1 = Một chút
sa-scale-2 = Phần nào
sa-scale-3 = Phần lớn
sa-scale-4 = Hoàn toàn

## Tiêu đề các lĩnh vực

sa-element-english = Tiếng Anh
sa-element-education = Học tập và trường lớp
sa-element-economic = Việc làm và tiền bạc
sa-element-credentials = Bằng cấp và giấy tờ
sa-element-health = Sức khỏe và tinh thần
sa-element-civic = Tham gia cộng đồng
sa-element-navigation = Đi lại và tìm dịch vụ
sa-element-social = Bạn bè và sự gắn bó

## Câu hỏi

sa-q-english-1 = Tôi có thể hiểu giáo viên của con tôi hoặc bác sĩ của tôi khi họ nói tiếng Anh.
sa-q-english-2 = Tôi có thể điền một mẫu đơn đơn giản bằng tiếng Anh, ví dụ mẫu đơn ở trường học hoặc phòng khám.
sa-q-english-3 = Tôi có thể nói chuyện bằng tiếng Anh với mọi người ở nơi làm việc, ở cửa hàng hoặc qua điện thoại.

sa-q-education-1 = Tôi biết nơi có thể đi học để tiếp tục học hỏi, ví dụ học tiếng Anh, lấy bằng trung học, học đại học hoặc học nghề.
sa-q-education-2 = Tôi hiểu trường học và trường đại học ở đây hoạt động như thế nào.

sa-q-economic-1 = Tôi có việc làm, hoặc tôi biết cách tìm việc phù hợp với khả năng của mình.
sa-q-economic-2 = Gia đình tôi có đủ tiền mỗi tháng để trả tiền nhà, tiền ăn và các hóa đơn.
sa-q-economic-3 = Tôi có thể dùng tài khoản ngân hàng hoặc quỹ tín dụng để tiết kiệm và trả các hóa đơn.

sa-q-credentials-1 = Tôi biết cách để bằng cấp hoặc giấy phép hành nghề của tôi từ nước khác được công nhận ở đây.
sa-q-credentials-2 = Tôi biết mình cần những giấy phép nào cho công việc mình muốn làm.
sa-q-credentials-3 = Tôi biết nơi có thể nhận được sự giúp đỡ đáng tin cậy về giấy tờ di trú hoặc nhập tịch của mình.

sa-q-health-1 = Tôi có bác sĩ hoặc phòng khám để đến khám khi bị bệnh.
sa-q-health-2 = Tôi có bảo hiểm y tế, hoặc tôi biết cách để có bảo hiểm hoặc được chăm sóc y tế với chi phí thấp.
sa-q-health-3 = Tôi biết nơi tìm sự giúp đỡ nếu tôi cảm thấy căng thẳng, buồn bã hoặc lo lắng trong một thời gian dài.

sa-q-civic-1 = Tôi biết các quyền cơ bản của mình ở đất nước này, ví dụ tại nơi làm việc hoặc khi thuê nhà.
sa-q-civic-2 = Tôi tham gia vào cộng đồng, ví dụ đi họp ở trường, làm tình nguyện hoặc sinh hoạt trong các nhóm cộng đồng.

sa-q-navigation-1 = Tôi biết cách đi lại trong khu vực của mình bằng xe buýt, tàu hoặc các cách khác.
sa-q-navigation-2 = Tôi có thể dùng điện thoại hoặc máy tính để tìm thông tin, gửi thư điện tử hoặc điền đơn trên mạng.
sa-q-navigation-3 = Tôi biết nơi hỏi để được giúp đỡ về thực phẩm, nhà ở hoặc các phúc lợi công.

sa-q-social-1 = Tôi có những người có thể nhờ giúp đỡ khi gặp khó khăn.
sa-q-social-2 = Ở đây tôi có bạn bè hoặc hàng xóm để cùng gặp gỡ, trò chuyện.
sa-q-social-3 = Tôi cảm thấy được chào đón trong cộng đồng của mình.
