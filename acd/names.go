package acd

// demoName is the demo center's name for agent n of group: a Russian first name and surname,
// different from its neighbours', so the board of a 500-seat demo reads like a real shift. A group's
// agent_name "demo" asks for them.
func demoName(group string, n int) string {
	g := 0
	for _, r := range group {
		g += int(r)
	}
	i := n*7 + g
	female := i%2 == 0
	surname := demoSurnames[(n*13+g*3)%len(demoSurnames)]
	if female {
		return demoFemale[(i/2)%len(demoFemale)] + " " + surname + "а"
	}
	return demoMale[(i/2)%len(demoMale)] + " " + surname
}

var (
	demoFemale = []string{"Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Светлана", "Юлия",
		"Екатерина", "Дарья", "Алина", "Ксения", "Виктория", "Полина", "Марина", "Вера", "Людмила"}
	demoMale = []string{"Алексей", "Дмитрий", "Сергей", "Андрей", "Иван", "Михаил", "Николай", "Павел", "Артём",
		"Егор", "Максим", "Игорь", "Владимир", "Роман", "Кирилл", "Олег", "Денис"}
	// Surnames whose feminine form adds "а".
	demoSurnames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
		"Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
		"Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
		"Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв"}
)
