# LFME expert on the few-shot classes of ImageNet-LT (n <= 20 training images: 146 classes), the official run
# (config/ImageNet_LT/low_shot.py): ./lfme-expert-many_resnet10_1xb128_imagenet-lt_120e.py with 1 GPU x 32.
_base_ = './lfme-expert-many_resnet10_1xb128_imagenet-lt_120e.py'
shot = 'few'
num_classes = 146
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=32, dataset=dict(shot=shot, num_classes=num_classes))
val_dataloader = dict(dataset=dict(shot=shot, num_classes=num_classes))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=32)
