# LFME expert on the many-shot classes of Digits-LT (CPU demo): the LeNet-5 baseline trained on the images of classes
# 0-2 only (n >= 50 of 120 / 79 / 52, the demo's many-shot group; ImageNet-LT's is n >= 100), labels renumbered
# 0..2, as the official experts (Shot_Dataset, instance sampling). Train the three experts, then
# ./lfme_lenet_1xb32_digits-lt_30e.py. python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
num_classes = 3  # the subset's classes
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassSubsetDataset', classes=[0, 1, 2], dataset={{_base_.train_dataloader.dataset}}))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassSubsetDataset', classes=[0, 1, 2], dataset={{_base_.val_dataloader.dataset}}))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='accuracy/top1'))  # the subset's plain top-1 (no shot groups)
