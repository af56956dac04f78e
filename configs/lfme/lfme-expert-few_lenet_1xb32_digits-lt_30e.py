# LFME expert on the few-shot classes of Digits-LT (CPU demo): ./lfme-expert-many_lenet_1xb32_digits-lt_30e.py on
# classes 6-9 (n <= 10: 10 / 6 / 4 / 3 images), labels renumbered 0..3. python tools/train.py THIS_CONFIG
_base_ = './lfme-expert-many_lenet_1xb32_digits-lt_30e.py'
num_classes = 4
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(classes=[6, 7, 8, 9]))
val_dataloader = dict(dataset=dict(classes=[6, 7, 8, 9]))
test_dataloader = val_dataloader
