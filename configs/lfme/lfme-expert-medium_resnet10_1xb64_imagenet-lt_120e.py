# LFME expert on the medium-shot classes of ImageNet-LT (21-99 training images: 463 classes), the official run
# (config/ImageNet_LT/median_shot.py): ./lfme-expert-many_resnet10_1xb128_imagenet-lt_120e.py with 1 GPU x 64.
_base_ = './lfme-expert-many_resnet10_1xb128_imagenet-lt_120e.py'
shot = 'medium'
num_classes = 463
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=64, dataset=dict(shot=shot, num_classes=num_classes))
val_dataloader = dict(dataset=dict(shot=shot, num_classes=num_classes))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=64)
