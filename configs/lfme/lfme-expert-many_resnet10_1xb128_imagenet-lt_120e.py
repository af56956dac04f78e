# LFME expert on the many-shot classes of ImageNet-LT (n >= 100 training images: 391 classes, ImageNet_shots.pkl),
# the official run (xiangly55/LFME config/ImageNet_LT/many_shot.py): ResNet-10 (./_base_/lfme_resnet10_imagenet-lt.py)
# on the images of those classes only (Shot_Dataset: instance sampling, labels renumbered by the classes' order),
# 1 GPU x 128, SGD lr 0.1, momentum 0.9, weight decay 5e-4, 120 epochs of cosine annealing (T_max 120), top-1 on the
# subset's val images. The medium / few experts inherit it. tools/train.py THIS_CONFIG; then the student,
# ./lfme_resnet10_1xb256_imagenet-lt_90e.py
_base_ = './_base_/lfme_resnet10_imagenet-lt.py'
shot = 'many'
num_classes = 391  # the subset's classes (checked against the split file by ClassSubsetDataset)
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=128, dataset=dict(
    _delete_=True, type='ClassSubsetDataset', shot=shot, class_stats={{_base_.class_stats}}, num_classes=num_classes,
    dataset={{_base_.train_dataloader.dataset}}))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassSubsetDataset', shot=shot, class_stats={{_base_.class_stats}}, num_classes=num_classes,
    dataset={{_base_.val_dataloader.dataset}}))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
max_epochs = 120
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=128)
